"""Real outages: a private redis-server and a private PostgreSQL cluster (from initdb) that these
tests stop, crash and start again under the real `flask cron` and `flask worker` processes.

The worker process serves the default and notifications queues (relaying and reconciling the
outbox, broadcasts); the dispatch queue is drained by the test itself (a burst worker of the same
class), so a test can hold dispatch jobs in the queue, lose them, or run them during an outage.
The processes' logs are in pytest's temporary directory (outage-logs*).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import sqlalchemy as sa
from flask import request_finished
from redis import Redis

from models import DispatchOffer, OutboxMessage
from service_hub import create_app
from service_hub.plumbing.extensions import db
from service_hub.worker import build_worker
from tests import factories as f

PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin")) or [
    os.path.dirname(path) for path in filter(None, [shutil.which("pg_ctl")])
]
REDIS_SERVER = shutil.which("redis-server")
QUEUES = ("default", "notifications")  # the worker process's; the test runs dispatch
CHUNK, RESIDENTS = 50, 100


def _require(present, what: str) -> None:
    if present:
        return
    reason = f"{what} not found: the outage tests need the real server binaries"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the outage tests: {reason}")
    print(reason)
    pytest.skip(reason)


def _user_exists(name: str) -> bool:
    try:
        return bool(pwd.getpwnam(name))
    except KeyError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, what: str) -> float:
    """Poll condition() until it is true; return the seconds it took (fail after timeout)."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except Exception:  # a server is down: not yet
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


class PrivateRedis:
    """A redis-server of our own on a free port, saving to its own directory on shutdown."""

    def __init__(self, directory: str) -> None:
        self.directory, self.port, self.process = directory, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             self.directory, "--save", "3600 1", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: Redis(port=self.port, socket_timeout=1).ping(), 10, "redis start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self) -> Redis:
        return Redis.from_url(self.url)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb) on a free port; fsync off, it is a test (commits
    stay synchronous: a crash must not lose what was answered as done)."""

    running = False

    def __init__(self, directory: str) -> None:
        self.bin, self.directory, self.port = PG_BINS[-1], directory, free_port()
        self.data = os.path.join(directory, "data")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        # PostgreSQL refuses to run as root: run its tools as the postgres user then.
        self.as_owner = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_owner, os.path.join(self.bin, tool), *args]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, f"{tool} failed: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c full_page_writes=off"  # a crash of the server alone loses nothing
        )
        log = os.path.join(self.directory, "log")
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """fast: a clean shutdown; immediate: a crash (recovery at the next start)."""
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")
            self.running = False

    def ensure_running(self) -> None:
        if not self.running:
            self.start()


@contextlib.contextmanager
def restarted(postgres: PrivatePostgres):
    """PostgreSQL runs again at the end of the block, whatever happened in it."""
    try:
        yield
    finally:
        postgres.ensure_running()


@pytest.fixture(scope="module")
def servers():
    _require(REDIS_SERVER, "redis-server")
    _require(PG_BINS, "PostgreSQL (initdb, pg_ctl under /usr/lib/postgresql/*/bin)")
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        _require(shutil.which("runuser") and _user_exists("postgres"), "runuser, user postgres")
    directory = tempfile.mkdtemp(prefix="service-hub-outages-")
    redis, postgres = PrivateRedis(directory), PrivatePostgres(directory)
    redis.start()
    postgres.start()
    yield redis, postgres
    redis.stop()
    postgres.stop("immediate")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(servers, fake_wechat):
    """The app on the private servers, its schema migrated."""
    from flask_migrate import upgrade

    redis, postgres = servers
    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "INPROCESS_TIMERS": False,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": postgres.url,
            "REDIS_URL": redis.url,
            "WECHAT_API_BASE": fake_wechat.base_url,
        }
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


class Process:
    """A `flask …` command of ours, its log in a file the test can read."""

    def __init__(self, args: list[str], env: dict, log_path: str) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()


@pytest.fixture(scope="module")
def processes(servers, fake_wechat, tmp_path_factory, request):
    """`flask cron` and `flask worker default notifications`, as in production."""
    redis, postgres = servers
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "testing",
        "REDIS_URL": redis.url,
        "DATABASE_URL": postgres.url,
        "WECHAT_API_BASE": fake_wechat.base_url,
        "NOTIFICATION_CHUNK_SIZE": str(CHUNK),
        "QUIET_HOURS": "00:00-00:00",
    }
    logs = tmp_path_factory.mktemp("outage-logs")
    cron = Process(["cron"], env, str(logs / "cron.log"))
    worker = Process(["worker", "--simple", *QUEUES], env, str(logs / "worker.log"))
    request.getfixturevalue("stack")  # the schema is migrated while they start
    wait_until(lambda: "starting" in cron.log() and "Listening on" in worker.log(), 60, "up")
    yield cron, worker
    for process in (cron, worker):
        process.stop()


def world(app):
    community_id = f.community(app)
    f.engineer(app, communities=(community_id,), max_open_orders=100)
    resident_id = f.resident(app, communities=(community_id,))
    return community_id, f.resident_auth(app, resident_id), f.service_type(app)


def take_orders(app, count: int) -> list[int]:
    community_id, auth, service_id = world(app)
    client = app.test_client()
    ids = []
    for _ in range(count):
        response = client.post(
            "/api/v1/orders",
            headers=auth,
            json={"community_id": community_id, "service_type_id": service_id},
        )
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    return ids


def dispatch_messages(app, order_ids: list[int]) -> list[int]:
    with app.app_context():
        messages = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.payload).where(
                OutboxMessage.kind == "order_dispatch"
            )
        ).all()
        db.session.rollback()
    return [mid for mid, payload in messages if payload["order_id"] in order_ids]


def queued_dispatch_messages(app) -> set[int]:
    """Outbox messages whose job waits in the dispatch queue."""
    queue = app.extensions["job_queue"].queues["dispatch"]
    return {job.args[0] for job in queue.get_jobs() if job.args}


def offers(app, order_ids: list[int]) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(DispatchOffer.order_id, sa.func.count())
            .where(DispatchOffer.order_id.in_(order_ids))
            .group_by(DispatchOffer.order_id)
        ).all()
        db.session.rollback()
    return dict(rows)


def run_dispatch(app) -> None:
    build_worker(app, ("dispatch",), simple=True).work(burst=True, logging_level="WARNING")


def test_cron_survives_a_redis_restart_and_relays_the_orders_taken_meanwhile(
    processes, stack, servers
):
    redis, _ = servers
    cron, worker = processes
    redis.stop()
    try:
        wait_until(lambda: "Redis is unreachable" in cron.log(), 20, "cron meets the outage")
        order_ids = take_orders(stack, 3)  # answered while Redis is down: the outbox keeps them
    finally:
        redis.start()
    messages = set(dispatch_messages(stack, order_ids))
    took = wait_until(lambda: messages <= queued_dispatch_messages(stack), 20, "orders relayed")
    print(f"relayed {took:.1f} s after Redis returned")
    run_dispatch(stack)
    assert offers(stack, order_ids) == {order_id: 1 for order_id in order_ids}
    assert cron.alive() and worker.alive()


def test_dispatch_jobs_lost_by_redis_are_queued_again_within_seconds(processes, stack, servers):
    redis, _ = servers
    order_ids = take_orders(stack, 3)
    messages = set(dispatch_messages(stack, order_ids))
    assert messages <= queued_dispatch_messages(stack)
    redis.client().flushall()  # Redis came back empty, or a failover lost the queue
    took = wait_until(
        lambda: messages <= queued_dispatch_messages(stack), 25, "lost dispatch jobs queued again"
    )
    print(f"queued again {took:.1f} s after FLUSHALL")
    run_dispatch(stack)
    assert offers(stack, order_ids) == {order_id: 1 for order_id in order_ids}


def test_an_order_whose_dispatch_met_a_postgresql_crash_is_offered_once_it_is_back(
    processes, stack, servers
):
    _, postgres = servers
    [order_id] = take_orders(stack, 1)
    postgres.stop("immediate")
    worker = build_worker(stack, ("dispatch",), simple=True)
    redis = stack.extensions["job_queue"].redis
    back = {}

    def start_postgres_once_the_job_failed():
        try:
            wait_until(
                lambda: int(redis.hget(worker.key, "failed_job_count") or 0) >= 1,
                20,
                "the dispatch job meets the outage",
            )
        finally:
            postgres.ensure_running()
            back["at"] = time.monotonic()

    helper = threading.Thread(target=start_postgres_once_the_job_failed)
    helper.start()
    worker.work(burst=True, logging_level="WARNING")  # signals and alarms: the main thread
    helper.join(timeout=40)
    wait_until(lambda: offers(stack, [order_id]) == {order_id: 1}, 20, "the order offered")
    print(f"offered {time.monotonic() - back['at']:.1f} s after PostgreSQL returned")


def test_every_answer_during_a_postgresql_restart_is_a_json_503_with_retry_after(stack, servers):
    _, postgres = servers
    community_id, auth, service_id = world(stack)
    in_flight, parked, release = 3, threading.Semaphore(0), threading.Event()
    still_to_park, lock = [in_flight], threading.Lock()
    answers = []

    def park(sender, response, **extra):
        # Hold a few requests after their last query, their transaction still open.
        with lock:
            if not still_to_park[0]:
                return
            still_to_park[0] -= 1
        parked.release()
        release.wait(timeout=30)

    def ask(method: str, path: str, body: dict | None = None):
        try:
            answer = stack.test_client().open(path, method=method, headers=auth, json=body)
        except Exception as exc:  # escaped the app: gunicorn would answer with its HTML page
            answer = exc
        answers.append((path, answer))

    with request_finished.connected_to(park, stack), restarted(postgres):
        held = ("GET", "/api/v1/me/orders")
        threads = [threading.Thread(target=ask, args=held) for _ in range(in_flight)]
        for thread in threads:
            thread.start()
        for _ in range(in_flight):
            assert parked.acquire(timeout=30)
        postgres.stop("fast")  # a restart: the held requests lose their connections
        release.set()
        for thread in threads:
            thread.join(timeout=30)
        order = {"community_id": community_id, "service_type_id": service_id}
        for method, path, body in (
            ("GET", "/api/v1/me/orders", None),
            ("GET", f"/api/v1/communities/{community_id}", None),
            ("POST", "/api/v1/orders", order),
            ("GET", "/readyz", None),
        ):
            ask(method, path, body)

    for path, answer in answers:
        assert not isinstance(answer, Exception), f"{path}: {answer!r}"
        assert answer.is_json, (path, answer.status_code)
        assert answer.status_code in (200, 503), (path, answer.status_code)
        if answer.status_code == 503:
            assert int(answer.headers["Retry-After"]) > 0, path
    assert all(answer.status_code == 503 for _, answer in answers[in_flight:])
    assert stack.test_client().get("/readyz").status_code == 200


def test_a_broadcast_interrupted_by_a_postgresql_crash_is_finished_once_it_is_back(
    processes, stack, servers, fake_wechat
):
    _, postgres = servers
    _, worker = processes
    community_id = f.community(stack)
    residents = f.many_residents(stack, community_id, RESIDENTS)
    f.subscription_credits(stack, residents, "visit_announced")
    fake_wechat.state.send_gate.clear()  # hold the first send of the first chunk
    with restarted(postgres):
        try:
            f.announce_visit(stack, community_id, f"visit:outage:{community_id}")
            assert fake_wechat.state.wait_for_arrivals(1), "the worker never reached WeChat"
            postgres.stop("immediate")  # a crash while the worker waits for WeChat
        finally:
            fake_wechat.state.send_gate.set()
        wait_until(
            lambda: "executing (notifications.fanout.deliver_chunk)" in worker.log(),
            20,
            "the chunk meets the outage",
        )
    took = wait_until(
        lambda: len(fake_wechat.state.sent_messages) == RESIDENTS, 20, "every resident reached"
    )
    print(f"broadcast finished {took:.1f} s after PostgreSQL returned")
    sent_to = [message["touser"] for message in fake_wechat.state.sent_messages]
    assert len(set(sent_to)) == RESIDENTS  # nobody twice, the send in flight included

"""Benchmark: a broadcast to a community of 10,000 residents against the fake WeChat server
on loopback, with one and with two real worker processes, beside a bare client with the same
concurrency against the same fake in the same run; decisions per second without HTTP; and a
run where a worker is killed mid-broadcast and restarted, ending with every resident reached
exactly once.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/broadcast.py --residents 10000

Workers run as production runs them (`flask worker notifications`, already started and
listening when the broadcast is announced); a run ends when every delivery has its final
status. The bare client is service_hub.wechat.batch_send.BatchSender in as many processes as
there are workers, with the same concurrency (WECHAT_SEND_CONCURRENCY) and the same message,
and no database: the limit the fake and this machine allow. The database and Redis db are wiped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from rq import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.order_throughput import PG_URL, REDIS_URL, build  # noqa: E402
from demo.fake_wechat import FakeWeChatServer  # noqa: E402
from models import Delivery, InboxNotification  # noqa: E402
from notifications import fanout, wechat_channel, wechat_decisions  # noqa: E402
from notifications.fields import wechat_data  # noqa: E402
from notifications.templates import get_kind  # noqa: E402
from service_hub.plumbing import outbox  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

PAYLOAD = {
    "kind": "visit_announced",
    "visit_id": 1,
    "engineer_name": "张师傅",
    "community_name": "基准小区",
    "local_start": "2026年12月1日 10:00",
}
FINAL = ("sent", "failed", "skipped_no_credit", "capped", "opted_out", "blocked_daily_limit")
CONCURRENCY = int(os.environ.get("WECHAT_SEND_CONCURRENCY", "64"))


def prepare(residents: int, fake: FakeWeChatServer):
    app = build("postgres-redis")
    app.config.update(
        WECHAT_API_BASE=fake.base_url,
        WECHAT_APPID=fake.state.appid,
        WECHAT_SECRET=fake.state.secret,
        QUIET_HOURS="00:00-00:00",
    )
    community_id = f.community(app, household_count=residents)
    f.subscription_credits(app, f.many_residents(app, community_id, residents), "visit_announced")
    return app, community_id


def announce(app, community_id: int, key: str) -> float:
    started = time.perf_counter()
    with app.app_context():
        outbox.record("visit_announced", key, {**PAYLOAD, "community_id": community_id})
        outbox.commit_and_relay()
    return started


def worker_env(fake: FakeWeChatServer) -> dict:
    return {
        **os.environ,
        "SERVICE_HUB_ENV": "testing",
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "WECHAT_API_BASE": fake.base_url,
        "WECHAT_APPID": fake.state.appid,
        "WECHAT_SECRET": fake.state.secret,
        "WECHAT_SEND_CONCURRENCY": str(CONCURRENCY),
        "QUIET_HOURS": "00:00-00:00",
        "PYTHONPATH": str(ROOT),
    }


def workers(app, count: int, fake: FakeWeChatServer) -> list[subprocess.Popen]:
    """`count` production workers on the notifications queue, returned once all listen."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "notifications"],
            cwd=ROOT,
            env=worker_env(fake),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    redis = app.extensions["job_queue"].redis
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=redis)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.1)
    return procs


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=60)


def counts(app) -> tuple[int, int, int, int]:
    """(inbox rows, sent, final deliveries, deliveries)."""
    with app.app_context():
        inbox = db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification))
        sent = db.session.scalar(sa.select(sa.func.count()).where(Delivery.status == "sent"))
        final = db.session.scalar(sa.select(sa.func.count()).where(Delivery.status.in_(FINAL)))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
        db.session.rollback()
    return inbox, sent, final, total


def wait_finished(app, residents: int) -> None:
    while counts(app)[2] < residents:
        time.sleep(0.05)


def timed_run(residents: int, worker_count: int) -> float:
    with FakeWeChatServer() as fake:
        app, community_id = prepare(residents, fake)
        procs = workers(app, worker_count, fake)
        try:
            cpu = -sum(cpu_seconds(proc.pid) for proc in procs)
            started = announce(app, community_id, f"visit:bench:{worker_count}")
            wait_finished(app, residents)
            seconds = time.perf_counter() - started
            cpu += sum(cpu_seconds(proc.pid) for proc in procs)
            redis = app.extensions["job_queue"].redis
            jobs = sorted(w.successful_job_count for w in Worker.all(connection=redis))
        finally:
            stop(procs)
        inbox, sent, final, total = counts(app)
        to = [m["touser"] for m in fake.state.sent_messages]
        once = len(to) == len(set(to)) == sent == residents
        print(
            f"{worker_count} worker(s): {residents} residents in {seconds:.1f} s → "
            f"{sent / seconds:.0f} WeChat messages/s (inbox {inbox}, sent {sent}/{total}, "
            f"{'each resident once' if once else 'MISMATCH'}); worker CPU "
            f"{cpu * 1000 / residents:.2f} ms a message; jobs done per worker {jobs}",
            flush=True,
        )
        return sent / seconds


def bare_client_child(base_url: str, count: int, concurrency: int) -> None:
    """In a child process: send `count` messages with BatchSender and nothing else."""
    from service_hub.wechat.access_token import AccessTokenProvider
    from service_hub.wechat.batch_send import BatchSender, Outgoing
    from service_hub.wechat.client import WeChatClient

    appid, secret, template = sys.stdin.readline().split()
    provider = AccessTokenProvider(WeChatClient(base_url, appid, secret))
    sender = BatchSender(base_url, provider, concurrency=concurrency)
    kind = get_kind("visit_announced")
    data = wechat_data(kind.wechat_fields(PAYLOAD))
    page = kind.page.format(**PAYLOAD)
    messages = [
        Outgoing(n, f"obare{os.getpid():08d}{n:015d}"[:28], template, data, page)
        for n in range(count)
    ]
    provider.get()
    print("ready", flush=True)
    sys.stdin.readline()
    errors = []
    sender.send(messages, lambda keys: set(keys), lambda m, e: errors.append(e) or True)
    print(json.dumps({"errors": sum(e is not None for e in errors)}), flush=True)


def bare_run(total: int, processes: int) -> float:
    """Messages/s of `processes` bare clients (total messages) against a fresh fake."""
    with FakeWeChatServer() as fake:
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--bare-client",
                    fake.base_url,
                    str(total // processes),
                    str(CONCURRENCY),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for _ in range(processes)
        ]
        for child in children:
            child.stdin.write(f"{fake.state.appid} {fake.state.secret} tmpl-visit_announced\n")
            child.stdin.flush()
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        errors = sum(json.loads(child.stdout.readline())["errors"] for child in children)
        seconds = time.perf_counter() - started
        for child in children:
            child.wait(timeout=60)
        sent = len(fake.state.sent_messages)
        print(
            f"bare client × {processes} (concurrency {CONCURRENCY} each): {sent} messages in "
            f"{seconds:.1f} s → {sent / seconds:.0f} messages/s ({errors} errors)",
            flush=True,
        )
        return sent / seconds


def decisions_run(residents: int) -> None:
    """Decisions per second without HTTP, chunk by chunk as the workers decide."""
    with FakeWeChatServer() as fake:
        app, community_id = prepare(residents, fake)
        with app.app_context():
            chunk = app.config["NOTIFICATION_CHUNK_SIZE"]
            resident_ids = fanout._bound_residents(community_id)
            ids = []
            for first in range(0, residents, chunk):
                part = resident_ids[first : first + chunk]
                ids.append(
                    wechat_channel.plan(part, "visit_announced", "visit:decide", PAYLOAD, None)
                )
            db.session.commit()
            started = time.perf_counter()
            for part in ids:
                wechat_decisions.decide(part)
            seconds = time.perf_counter() - started
            ready = db.session.scalar(sa.select(sa.func.count()).where(Delivery.status == "ready"))
            # Reference from the same run: PostgreSQL updating the same rows in batches.
            started = time.perf_counter()
            for part in ids:
                db.session.execute(
                    sa.update(Delivery)
                    .where(Delivery.id.in_(part))
                    .values(status="queued", updated_at=sa.func.now())
                )
                db.session.commit()
            updates = time.perf_counter() - started
        print(
            f"decisions: {residents} in {seconds:.2f} s → {residents / seconds:.0f}/s "
            f"({ready} ready, chunks of {chunk}); reference: PostgreSQL updates the same rows "
            f"in the same batches at {residents / updates:.0f} rows/s",
            flush=True,
        )


def killed_run(residents: int) -> None:
    with FakeWeChatServer() as fake:
        app, community_id = prepare(residents, fake)
        [proc] = workers(app, 1, fake)
        announce(app, community_id, "visit:bench:kill")
        # A quarter in, and half-way through a chunk: the worker is mid-send, not between jobs.
        while counts(app)[1] < residents // 4 + app.config["NOTIFICATION_CHUNK_SIZE"] // 2:
            time.sleep(0.01)
        proc.kill()
        proc.wait()
        print(f"killed the worker with {counts(app)[1]} sent", flush=True)
        with app.app_context():
            fanout.reconcile(reconcile_after=timedelta(0), interrupted_after=timedelta(0))
        procs = workers(app, 1, fake)
        try:
            wait_finished(app, residents)
        finally:
            stop(procs)
        inbox, sent, final, total = counts(app)
        with app.app_context():
            failed = db.session.scalar(
                sa.select(sa.func.count()).where(Delivery.status == "failed")
            )
        to = [m["touser"] for m in fake.state.sent_messages]
        print(
            f"after restart: inbox {inbox}, deliveries {total} ({final} final), sent {sent}, "
            f"interrupted (failed, never re-sent) {failed}, "
            f"WeChat got {len(to)} messages for {len(set(to))} distinct residents "
            f"({'exactly once' if len(to) == len(set(to)) == residents else 'MISMATCH'})",
            flush=True,
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-client":
        bare_client_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument(
        "--runs", default="decide,1,2,kill", help="decide, 1 and 2 workers, the killed worker"
    )
    args = parser.parse_args()
    runs = args.runs.split(",")
    if "decide" in runs:
        decisions_run(args.residents)
    for count in (1, 2):
        if str(count) in runs:
            reference = bare_run(args.residents, count)
            measured = timed_run(args.residents, count)
            print(
                f"  → {count} worker(s): measured {measured:.0f} messages/s, reference (bare "
                f"client) {reference:.0f}/s, ratio {measured / reference:.0%}",
                flush=True,
            )
    if "kill" in runs:
        killed_run(args.residents)


if __name__ == "__main__":
    main()

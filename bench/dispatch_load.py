"""Benchmark: workers as production runs them (`flask worker`, no fork per job), beside RQ's
forking worker (`flask worker --fork`) in the same run, and the API as production runs it
(gunicorn -c gunicorn.conf.py).

1. creation -> offer p50/p99 for --orders orders created at --rate orders/s (paced) on two
   real `flask worker dispatch notifications default` processes, with the request latency
   beside it (`--fork-latency` also runs it with forking workers); run first, on fresh data;
   offer expiries one phase schedules are dropped before the next;
2. no-op jobs per second, one burst worker, forking vs not (alternated, median of --repeats);
3. dispatch capacity: --backlog orders taken with no worker running, then one
   `flask worker --burst dispatch`; orders offered per second (first to last offer), forking
   vs not (alternated, median).

    .venv/bin/python bench/dispatch_load.py

Uses PostgreSQL database `bench` (public schema dropped and rebuilt) and Redis db 12
(flushed); override with BENCH_DATABASE_URL / BENCH_REDIS_URL. Everything runs on loopback
and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rq import Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.registry import ScheduledJobRegistry  # noqa: E402

from bench.order_throughput import PG_URL, REDIS_URL, build  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
PORT = 8799


def noop() -> None:
    """The no-op job (importable by the workers)."""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def seed(app, communities: int, engineers_each: int, residents_each: int):
    rng = random.Random(1)
    service = f.service_type(app)
    plan = []
    for _ in range(communities):
        community = f.community(
            app, lat=31.2 + rng.uniform(-0.1, 0.1), lng=121.45 + rng.uniform(-0.1, 0.1)
        )
        for _ in range(engineers_each):
            f.engineer(
                app, communities=(community,), standing=rng.random(), max_open_orders=100_000
            )
        for _ in range(residents_each):
            plan.append((community, f.resident(app, communities=(community,))))
    return service, plan


class Stack:
    """gunicorn and `flask worker` processes started as production starts them."""

    def __init__(self, app, plan, service):
        self.app, self.plan, self.service = app, plan, service
        self.venv = Path(sys.executable).parent
        self.env = {
            **os.environ,
            "SERVICE_HUB_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": PG_URL,
            "REDIS_URL": REDIS_URL,
            "PYTHONPATH": str(ROOT),
            "BIND": f"127.0.0.1:{PORT}",
            "LOG_LEVEL": "warning",
        }
        # Tokens signed with SECRET, the key the HTTP processes use.
        app.config["SECRET_KEY"] = SECRET
        self.tokens = {rid: f.resident_auth(app, rid) for _, rid in plan}
        self.base = f"http://127.0.0.1:{PORT}"
        self.sessions: dict[int, requests.Session] = {}
        self.web = subprocess.Popen(
            [str(self.venv / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                if requests.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)

    def worker(self, queues: list[str], fork: bool, burst: bool) -> subprocess.Popen:
        command = [str(self.venv / "flask"), "--app", "wsgi", "worker"]
        command += ["--fork"] * fork + ["--burst", "--without-scheduler"] * burst + queues
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def create(self, job) -> float:
        community, resident = job
        session = self.sessions.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        response = session.post(
            f"{self.base}/api/v1/orders",
            headers=self.tokens[resident],
            json={"community_id": community, "service_type_id": self.service},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return time.perf_counter() - started

    def last_order_id(self) -> int:
        with self.app.app_context():
            value = db.session.scalar(sa.text("SELECT coalesce(max(id), 0) FROM service_order"))
            db.session.rollback()
        return value

    def offers_after(self, order_id: int) -> list[tuple[float, float]]:
        """(created, offered) epoch seconds of each order after order_id with an offer."""
        with self.app.app_context():
            rows = db.session.execute(
                sa.text(
                    "SELECT EXTRACT(EPOCH FROM s.created_at), "
                    "EXTRACT(EPOCH FROM min(o.offered_at)) "
                    "FROM service_order s JOIN dispatch_offer o ON o.order_id = s.id "
                    "WHERE s.id > :lo GROUP BY s.id"
                ),
                {"lo": order_id},
            ).all()
            db.session.rollback()
        return [(float(a), float(b)) for a, b in rows]

    def wait_offered(self, order_id: int, count: int) -> list[tuple[float, float]]:
        deadline = time.time() + 600
        while True:
            rows = self.offers_after(order_id)
            if len(rows) >= count or time.time() > deadline:
                return rows
            time.sleep(0.2)

    def stop(self) -> None:
        self.web.terminate()
        self.web.wait(timeout=30)


def drop_delayed_jobs(stack: Stack) -> None:
    """Drop the offer expiries an earlier phase scheduled: a worker's scheduler would queue
    them in the middle of the next phase's measurement."""
    for queue in stack.app.extensions["job_queue"].queues.values():
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


def noop_rate(stack: Stack, jobs: int, fork: bool) -> float:
    queue = stack.app.extensions["job_queue"].queues["default"]
    # By name: run as a script, this module is __main__ here.
    ids = [queue.enqueue("bench.dispatch_load.noop").id for _ in range(jobs)]
    stack.worker(["default"], fork=fork, burst=True).wait(timeout=600)
    done = Job.fetch_many(ids, connection=queue.connection)
    first = min(job.started_at for job in done)
    last = max(job.ended_at for job in done)
    return (jobs - 1) / (last - first).total_seconds()


def dispatch_capacity(stack: Stack, orders: int, clients: int, fork: bool) -> float:
    before = stack.last_order_id()
    rng = random.Random(before)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(stack.create, [rng.choice(stack.plan) for _ in range(orders)]))
    stack.worker(["dispatch"], fork=fork, burst=True).wait(timeout=600)
    offered = sorted(offer for _, offer in stack.offers_after(before))
    assert len(offered) == orders, f"{len(offered)} of {orders} offered"
    return (orders - 1) / (offered[-1] - offered[0])


def paced_latency(stack: Stack, orders: int, rate: float, clients: int, fork: bool):
    """Orders created at `rate` per second on two real workers: (request latencies, delays)."""
    workers = [
        stack.worker(["dispatch", "notifications", "default"], fork=fork, burst=False)
        for _ in range(2)
    ]
    try:
        redis = stack.app.extensions["job_queue"].redis
        while Worker.count(connection=redis) < 2:  # each builds the app, then registers
            time.sleep(0.1)
        before = stack.last_order_id()
        rng = random.Random(before)
        started = time.perf_counter()

        def paced(i_job):
            i, job = i_job
            time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            return stack.create(job)

        jobs = [(i, rng.choice(stack.plan)) for i in range(orders)]
        with ThreadPoolExecutor(max_workers=clients) as pool:
            latencies = list(pool.map(paced, jobs))
        achieved = orders / (time.perf_counter() - started)
        rows = stack.wait_offered(before, orders)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    assert len(rows) == orders, f"{len(rows)} of {orders} offered"
    return achieved, latencies, [offer - created for created, offer in rows]


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noop-jobs", type=int, default=300)
    parser.add_argument("--backlog", type=int, default=150, help="orders per capacity run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--orders", type=int, default=600, help="orders in the paced run")
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--fork-latency", action="store_true")
    args = parser.parse_args()

    app = build("postgres-redis")
    service, plan = seed(app, args.communities, engineers_each=10, residents_each=5)
    stack = Stack(app, plan, service)
    try:
        paced = {False: paced_latency(stack, args.orders, args.rate, args.clients, False)}
        if args.fork_latency:
            drop_delayed_jobs(stack)
            paced[True] = paced_latency(stack, args.orders, args.rate, args.clients, True)
        drop_delayed_jobs(stack)  # burst workers below run no scheduler: none are queued
        noops = {True: [], False: []}
        capacity = {True: [], False: []}
        for _ in range(args.repeats):
            for fork in (True, False):  # alternated, so the machine's drift hits both
                noops[fork].append(noop_rate(stack, args.noop_jobs, fork))
                capacity[fork].append(dispatch_capacity(stack, args.backlog, args.clients, fork))
    finally:
        stack.stop()

    print(
        f"{args.communities} communities (10 engineers each); gunicorn -c gunicorn.conf.py; "
        f"`flask worker` (no fork per job) vs `flask worker --fork`; medians of {args.repeats}"
    )
    for name, figures, unit in (
        (f"no-op jobs ({args.noop_jobs}/run, one worker)", noops, "jobs/s"),
        (f"dispatch capacity ({args.backlog} orders/run, one worker)", capacity, "orders/s"),
    ):
        ours, forking = statistics.median(figures[False]), statistics.median(figures[True])
        print(
            f"{name}: {ours:.0f} {unit} vs forking {forking:.0f} {unit}: "
            f"{ours / forking:.1f}x  (runs: {[round(v) for v in figures[False]]} vs "
            f"{[round(v) for v in figures[True]]})"
        )
    for fork, (achieved, latencies, delays) in sorted(paced.items()):
        print(
            f"{'forking' if fork else 'production'} workers x2, {args.orders} orders paced at "
            f"{args.rate:.0f}/s (achieved {achieved:.1f}/s): creation -> offer p50 "
            f"{ms(delays, 0.5)}, p99 {ms(delays, 0.99)}; request p50 {ms(latencies, 0.5)}, "
            f"p99 {ms(latencies, 0.99)}; offer p99 / request p99 "
            f"{percentile(delays, 0.99) / percentile(latencies, 0.99):.1f}"
        )


if __name__ == "__main__":
    main()

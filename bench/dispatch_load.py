"""Benchmark: orders per second through the API under gunicorn with real Redis and two RQ
workers, and the time from an order's creation to its offer (p50/p99) under that load.

    .venv/bin/python bench/dispatch_load.py --orders 2000 --clients 8

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
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.order_throughput import PG_URL, REDIS_URL, build  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
PORT = 8799


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--communities", type=int, default=20)
    args = parser.parse_args()

    app = build("postgres-redis")
    service, plan = seed(app, args.communities, engineers_each=10, residents_each=5)
    tokens = {rid: f.resident_auth(app, rid) for _, rid in plan}
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
    }
    # Tokens above were signed with the bench app's key; sign the HTTP ones with SECRET.
    app.config["SECRET_KEY"] = SECRET
    tokens = {rid: f.resident_auth(app, rid) for _, rid in plan}
    venv = Path(sys.executable).parent
    web = subprocess.Popen(
        [
            str(venv / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    workers = [
        subprocess.Popen(
            [
                str(venv / "flask"),
                "--app",
                "wsgi",
                "worker",
                "--simple",
                "--without-scheduler",
                "dispatch",
                "notifications",
                "default",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        rng = random.Random(2)
        jobs = [rng.choice(plan) for _ in range(args.orders)]
        sessions = {}

        def create(job) -> float:
            community, resident = job
            import threading

            session = sessions.setdefault(threading.get_ident(), requests.Session())
            started = time.perf_counter()
            response = session.post(
                f"{base}/api/v1/orders",
                headers=tokens[resident],
                json={"community_id": community, "service_type_id": service},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            return time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            latencies = list(pool.map(create, jobs))
        api_seconds = time.perf_counter() - started

        deadline = time.time() + 300
        with app.app_context():
            while time.time() < deadline:
                offered = db.session.scalar(
                    sa.text("SELECT count(DISTINCT order_id) FROM dispatch_offer")
                )
                db.session.rollback()
                if offered >= args.orders:
                    break
                time.sleep(0.2)
            drained_seconds = time.perf_counter() - started
            delays = [
                row[0]
                for row in db.session.execute(
                    sa.text(
                        "SELECT EXTRACT(EPOCH FROM (o.offered_at - s.created_at)) "
                        "FROM dispatch_offer o JOIN service_order s ON s.id = o.order_id"
                    )
                )
            ]
    finally:
        web.terminate()
        for worker in workers:
            worker.terminate()
        web.wait(timeout=10)
        for worker in workers:
            worker.wait(timeout=10)
    print(
        f"orders={args.orders} clients={args.clients} communities={args.communities} "
        f"(10 engineers each); gunicorn 2 sync workers; 2 RQ workers (--simple)"
    )
    print(
        f"API: {args.orders / api_seconds:.0f} orders/s created; request p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
        f"{percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    print(
        f"dispatch: {offered} of {args.orders} offered; all offered "
        f"{drained_seconds:.1f} s after the first request "
        f"({offered / drained_seconds:.0f} orders/s end to end)"
    )
    delays = [float(d) for d in delays]
    print(
        f"creation → offer: p50 {statistics.median(delays) * 1000:.0f} ms, "
        f"p99 {percentile(delays, 0.99) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

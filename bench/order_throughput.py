"""Benchmark: orders created per second through the API, and dispatch jobs per second.

Run by hand, never in the test suite:
    .venv/bin/python bench/order_throughput.py --backend embedded --orders 500
    .venv/bin/python bench/order_throughput.py --backend postgres-redis --orders 500
The postgres-redis run uses BENCH_DATABASE_URL (default: database `bench` on 127.0.0.1, whose
public schema is dropped and rebuilt) and BENCH_REDIS_URL (default: Redis database 12, flushed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service_hub import create_app  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from service_hub.worker import build_worker  # noqa: E402
from tests import factories as f  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def build(backend: str):
    from flask_migrate import upgrade

    settings = {
        "SERVICE_HUB_ENV": "testing",
        "INPROCESS_TIMERS": False,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
    }
    if backend == "postgres-redis":
        admin = sa.create_engine(
            PG_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + "/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            name = PG_URL.rsplit("/", 1)[1]
            if not connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first():
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.replace("postgresql://", "postgresql+psycopg://")
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        settings.update(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=REDIS_URL)
    else:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        settings.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", REDIS_URL=None)
    app = create_app(settings)
    with app.app_context():
        upgrade()
    queue = app.extensions["job_queue"]
    if hasattr(queue, "redis"):
        queue.redis.flushdb()
    return app


def run_jobs(app) -> None:
    queue = app.extensions["job_queue"]
    if hasattr(queue, "drain"):
        queue.drain()
    else:
        build_worker(app, (), simple=True).work(burst=True, logging_level="WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["embedded", "postgres-redis"], default="embedded")
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--engineers", type=int, default=20)
    args = parser.parse_args()

    app = build(args.backend)
    community = f.community(app)
    service = f.service_type(app)
    for _ in range(args.engineers):
        f.engineer(app, communities=(community,), max_open_orders=args.orders)
    resident = f.resident(app, communities=(community,))
    auth = f.resident_auth(app, resident)
    client = app.test_client()
    # On the embedded default the in-process worker dispatches while the API takes orders,
    # as it does in real use; with Redis the jobs wait for the worker run below.

    latencies = []
    started = time.perf_counter()
    for i in range(args.orders):
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/orders",
            headers=auth,
            json={"community_id": community, "service_type_id": service},
        )
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 201, response.json
        if i and i % 100 == 0:
            print(f"  {i} orders …", file=sys.stderr)
    api_seconds = time.perf_counter() - started

    started = time.perf_counter()
    run_jobs(app)
    job_seconds = time.perf_counter() - started
    with app.app_context():
        offered = db.session.scalar(
            sa.text("SELECT count(*) FROM service_order WHERE status = 'offered'")
        )
    latencies.sort()
    print(f"backend={args.backend} orders={args.orders} engineers={args.engineers}")
    print(
        f"create: {args.orders / api_seconds:.0f} orders/s through the API (one client), "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms"
    )
    print(
        f"dispatch: {args.orders / job_seconds:.0f} orders/s ranked and offered "
        f"(one non-forking worker, after the API loop); {offered} offered"
    )


if __name__ == "__main__":
    main()

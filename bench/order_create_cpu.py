"""Benchmark: Python CPU per POST /orders, in process, on PostgreSQL + Redis (issue 16, part 6).

Run by hand, never in the test suite; to compare two trees, run it from a git worktree of
each, alternating:
    .venv/bin/python bench/order_create_cpu.py --orders 400
Uses BENCH_DATABASE_URL (default: database `bench`, whose public schema is dropped and
rebuilt) and BENCH_REDIS_URL (default: Redis database 12, flushed), as bench/order_throughput.py.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.order_throughput import build  # noqa: E402
from tests import factories as f  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--warm-up", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    app = build("postgres-redis")
    community, service = f.community(app), f.service_type(app)
    for _ in range(20):
        f.engineer(app, communities=(community,), max_open_orders=1_000_000)
    auth = f.resident_auth(app, f.resident(app, communities=(community,)))
    client = app.test_client()
    body = {"community_id": community, "service_type_id": service}

    def create() -> None:
        response = client.post("/api/v1/orders", headers=auth, json=body)
        assert response.status_code == 201, response.json

    for _ in range(args.warm_up):
        create()
    cpu, wall = [], []
    for _ in range(args.orders):
        c, w = time.process_time(), time.perf_counter()
        create()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    print(
        f"POST /orders in process: CPU median {statistics.median(cpu) * 1000:.2f} ms, "
        f"wall median {statistics.median(wall) * 1000:.2f} ms ({args.orders} orders)"
    )


if __name__ == "__main__":
    main()

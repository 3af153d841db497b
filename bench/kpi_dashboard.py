"""Benchmark: the dashboard's KPI API with 50,000 communities and 13 months of rollups.

    .venv/bin/python bench/kpi_dashboard.py --communities 50000

Uses PostgreSQL database `bench` (schema rebuilt) through the Flask test client; reports p50
and p99 of the table page sorted several ways, a filtered page, and one community's series.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.order_throughput import build  # noqa: E402
from models import Community, CommunityMonthKpi  # noqa: E402
from service_hub.kpis.queries import shift_month  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from service_hub.plumbing.geo import cell_of  # noqa: E402
from tests import factories as f  # noqa: E402

MONTH = "2026-10"


def seed(app, count: int) -> None:
    rng = random.Random(5)
    with app.app_context():
        rows = []
        for n in range(count):
            lat, lng = 22 + rng.random() * 18, 102 + rng.random() * 20
            rows.append(
                {
                    "external_code": f"B{n:06d}",
                    "name": f"小区{n}",
                    "province": "上海市" if n % 10 == 0 else "江苏省",
                    "city": "上海市" if n % 10 == 0 else "南京市",
                    "district": "区",
                    "address": "",
                    "lat": lat,
                    "lng": lng,
                    "geo_cell": cell_of(lat, lng),
                    "household_count": rng.randint(200, 3000),
                    "tier": rng.choice("ABCD"),
                    "status": "active",
                }
            )
        for start in range(0, count, 5000):
            db.session.execute(sa.insert(Community), rows[start : start + 5000])
        ids = db.session.scalars(sa.select(Community.id)).all()
        for back in range(13):
            month = shift_month(MONTH, -back)
            kpis = [
                {
                    "community_id": cid,
                    "month": month,
                    "orders_created": rng.randint(0, 40),
                    "orders_completed": rng.randint(0, 35),
                    "orders_cancelled": rng.randint(0, 3),
                    "complaints": rng.randint(0, 2),
                    "rating_sum": rng.randint(0, 100),
                    "rating_count": rng.randint(0, 20),
                    "accepted": rng.randint(0, 30),
                    "accept_seconds": rng.randint(0, 30000),
                    "arrivals_with_window": 10,
                    "arrivals_on_time": rng.randint(5, 10),
                    "active_residents": rng.randint(0, 30),
                }
                for cid in ids
            ]
            for start in range(0, len(kpis), 10000):
                db.session.execute(sa.insert(CommunityMonthKpi), kpis[start : start + 10000])
            print(f"  month {month} written", file=sys.stderr)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def timed(client, url: str, headers: dict, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.json
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = build("postgres-redis")
    seed(app, args.communities)
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    client = app.test_client()
    base = f"/api/v1/kpis/communities?month={MONTH}"
    for label, url in (
        ("table, sorted by orders", base),
        ("table, sorted by 千户服务量", f"{base}&sort=orders_per_1000"),
        ("table, sorted by 环比", f"{base}&sort=orders_mom"),
        ("bottom by satisfaction inputs (rating asc)", f"{base}&sort=average_rating&order=asc"),
        ("worst by satisfaction index (asc)", f"{base}&sort=satisfaction_index&order=asc"),
        ("health warnings of every community, first page", f"/api/v1/kpis/warnings?month={MONTH}"),
        ("table, region 上海市 + tier A", f"{base}&region=上海市&tier=A"),
        ("one community, 13 months", f"/api/v1/kpis/communities/1?months=13&until={MONTH}"),
    ):
        p50, p99 = timed(client, url, manager, args.runs)
        print(f"{label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()

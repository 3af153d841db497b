"""Benchmark: coupon claims per second through the API on real PostgreSQL, and the check that
exactly the stock was issued.

    .venv/bin/python bench/coupon_claims.py --claims 4000 --stock 2000 --clients 16

gunicorn (2 sync workers) serves the app on loopback; a pool of client threads, each with
its own HTTP session, has every resident claim once from one campaign, so all claims contend
for the same campaign row. Claims enqueue nothing, so no Redis is needed. Uses PostgreSQL
database `bench_h1` (public schema dropped and rebuilt); override with BENCH_DATABASE_URL.
The clients share the machine's cores with the server, so the figure is a floor.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import CommunityBinding, Coupon, CouponCampaign, Resident  # noqa: E402
from models.base import utcnow  # noqa: E402
from service_hub import create_app  # noqa: E402
from service_hub.auth.tokens import issue_token  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_h1")
SECRET = "bench-secret-key-0123456789abcdef0123456789"


def build():
    """The app on a fresh schema of the bench database."""
    from flask_migrate import upgrade

    url = PG_URL.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "INPROCESS_TIMERS": False,
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        upgrade()
    return app


def seed(app, claims: int, stock: int) -> tuple[int, list[dict]]:
    """One community, `claims` residents bound to it, one live campaign; returns
    (campaign id, each resident's Authorization header)."""
    community_id = f.community(app, household_count=5000)
    manager_id = f.staff(app, "manager")
    with app.app_context():
        rows = [{"openid": f"obench{n:026d}"} for n in range(claims)]
        ids = db.session.scalars(sa.insert(Resident).returning(Resident.id), rows).all()
        db.session.execute(
            sa.insert(CommunityBinding),
            [{"resident_id": rid, "community_id": community_id} for rid in ids],
        )
        campaign = CouponCampaign(
            title="压测券",
            discount_kind="fixed",
            amount_off_cents=500,
            total_stock=stock,
            per_resident_limit=1,
            starts_at=utcnow(),
            valid_days=7,
            targeting={"tiers": ["B"]},
            status="active",
            created_by=manager_id,
        )
        db.session.add(campaign)
        db.session.commit()
        headers = [
            {"Authorization": f"Bearer {issue_token('resident', rid, 'resident')[0]}"}
            for rid in ids
        ]
        return campaign.id, headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=4000, help="residents, one claim each")
    parser.add_argument("--stock", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    app = build()
    campaign_id, headers = seed(app, args.claims, args.stock)
    port = free_port()
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": PG_URL,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    sessions: dict[int, requests.Session] = {}

    def claim(auth: dict) -> tuple[int, float]:
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        response = session.post(
            f"{base}/api/v1/coupons/{campaign_id}/claim", headers=auth, json={}, timeout=60
        )
        return response.status_code, time.perf_counter() - started

    try:
        for _ in range(200):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        # Warm each worker's connection pool and imports with a few reads.
        for _ in range(20):
            requests.get(f"{base}/api/v1/services", timeout=5)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(claim, headers))
        seconds = time.perf_counter() - started
    finally:
        web.terminate()
        web.wait(timeout=15)

    statuses = Counter(status for status, _ in results)
    latencies = [latency for _, latency in results]
    with app.app_context():
        campaign = db.session.get(CouponCampaign, campaign_id)
        stored = db.session.scalar(
            sa.select(sa.func.count()).where(Coupon.campaign_id == campaign_id)
        )
        holders = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Coupon.resident_id))).where(
                Coupon.campaign_id == campaign_id
            )
        )
    expected = min(args.stock, args.claims)
    print(
        f"claims={args.claims} stock={args.stock} clients={args.clients} "
        f"gunicorn {args.workers} sync workers, PostgreSQL {PG_URL.rsplit('/', 1)[1]}"
    )
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(
        f"throughput: {args.claims / seconds:.0f} claim requests/s, "
        f"{statuses[201] / seconds:.0f} coupons issued/s over {seconds:.2f} s; "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    ok = campaign.issued == stored == holders == statuses[201] == expected
    print(
        f"issued check: campaign.issued={campaign.issued} coupons stored={stored} "
        f"distinct holders={holders} 201s={statuses[201]} expected={expected} → "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()

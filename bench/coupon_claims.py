"""Benchmark: coupon claims per second through the API, beside a bare Flask POST from the same
client in the same run, and the check that exactly the stock was issued.

    .venv/bin/python bench/coupon_claims.py --claims 4000 --stock 2000 --clients 16 --rounds 3

What production runs: gunicorn with gunicorn.conf.py (its worker count, 2 × cores + 1, unless
WEB_CONCURRENCY says otherwise), PostgreSQL, and Redis (the claim rate limit counts there).
A pool of client threads, each with its own HTTP session, has every resident claim once from
one campaign, so all claims contend for the same campaign row; the reference is the same
number of POSTs with the same headers and body to bench/bare_app.py under the same gunicorn
settings. Each round runs the bare POSTs, then the claims (a fresh campaign per round); the
figures are medians over rounds, the ratio is taken per round. Uses PostgreSQL database
`bench_h1` (public schema dropped and rebuilt) and Redis db 3 (flushed); override with
BENCH_DATABASE_URL and BENCH_REDIS_URL. The clients share the machine's cores with the
servers, so both figures are floors.
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

import redis
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import fresh_app  # noqa: E402
from models import CommunityBinding, Coupon, CouponCampaign, Resident  # noqa: E402
from models.base import utcnow  # noqa: E402
from service_hub.auth.tokens import issue_token  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_h1")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
SECRET = "bench-secret-key-0123456789abcdef0123456789"


def build():
    """The app on a fresh schema of the bench database."""
    return fresh_app(PG_URL, SECRET)


def seed_residents(app, claims: int) -> tuple[int, list[dict]]:
    """One community with `claims` residents bound to it; returns (community id, each
    resident's Authorization header)."""
    community_id = f.community(app, household_count=5000)
    with app.app_context():
        rows = [{"openid": f"obench{n:026d}"} for n in range(claims)]
        ids = db.session.scalars(sa.insert(Resident).returning(Resident.id), rows).all()
        db.session.execute(
            sa.insert(CommunityBinding),
            [{"resident_id": rid, "community_id": community_id} for rid in ids],
        )
        db.session.commit()
        headers = [
            {"Authorization": f"Bearer {issue_token('resident', rid, 'resident')[0]}"}
            for rid in ids
        ]
    return community_id, headers


def seed_campaign(app, manager_id: int, stock: int) -> int:
    """One live claim campaign with `stock` coupons; returns its id."""
    with app.app_context():
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
        return campaign.id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def serve(app_path: str, port: int, env: dict) -> subprocess.Popen:
    """gunicorn with the production settings, serving `app_path` on loopback; ready."""
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", app_path],
        cwd=ROOT,
        env={**env, "BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,  # the access log, written as in production
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                break
        except requests.RequestException:
            time.sleep(0.1)
    return server


def hammer(base: str, path: str, headers: list[dict], clients: int) -> tuple[list, float]:
    """POST {} to `base + path` once per header from `clients` threads; (status, latency) list and
    the seconds it took."""
    sessions: dict[int, requests.Session] = {}

    def post(auth: dict) -> tuple[int, float]:
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        response = session.post(base + path, headers=auth, json={}, timeout=60)
        return response.status_code, time.perf_counter() - started

    # Warm every worker (imports, connection pools) outside the timing.
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda _: requests.get(base + "/healthz", timeout=10), range(50)))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(post, headers))
    return results, time.perf_counter() - started


def check(app, campaign_id: int, results: list, stock: int, claims: int) -> bool:
    """Exactly the stock issued: the counter, the rows, the holders and the 201s agree."""
    statuses = Counter(status for status, _ in results)
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
    expected = min(stock, claims)
    ok = campaign.issued == stored == holders == statuses[201] == expected
    print(
        f"  statuses {dict(sorted(statuses.items()))}; issued check: "
        f"campaign.issued={campaign.issued} coupons stored={stored} distinct holders={holders} "
        f"201s={statuses[201]} expected={expected} → {'OK' if ok else 'MISMATCH'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=4000, help="residents, one claim each")
    parser.add_argument("--stock", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    app = build()
    _community_id, headers = seed_residents(app, args.claims)
    manager_id = f.staff(app, "manager")
    campaigns = [seed_campaign(app, manager_id, args.stock) for _ in range(args.rounds)]
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
    }
    claim_port, bare_port = free_port(), free_port()
    web = serve("wsgi:app", claim_port, env)
    bare = serve("bench.bare_app:app", bare_port, env)
    rows, ok = [], True
    try:
        for campaign_id in campaigns:
            bare_results, bare_seconds = hammer(
                f"http://127.0.0.1:{bare_port}", "/ping", headers, args.clients
            )
            assert {status for status, _ in bare_results} == {201}
            results, seconds = hammer(
                f"http://127.0.0.1:{claim_port}",
                f"/api/v1/coupons/{campaign_id}/claim",
                headers,
                args.clients,
            )
            claims_rate, bare_rate = args.claims / seconds, args.claims / bare_seconds
            latencies = [latency for _, latency in results]
            rows.append((claims_rate, bare_rate, claims_rate / bare_rate))
            print(
                f"round {len(rows)}: claims {claims_rate:.0f}/s "
                f"(p50 {statistics.median(latencies) * 1000:.1f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms), "
                f"bare POST {bare_rate:.0f}/s, ratio {claims_rate / bare_rate:.1%}"
            )
            ok = check(app, campaign_id, results, args.stock, args.claims) and ok
    finally:
        for server in (web, bare):
            server.terminate()
            server.wait(timeout=30)
    workers = os.environ.get("WEB_CONCURRENCY", "2 × cores + 1")
    print(
        f"claims={args.claims} stock={args.stock} clients={args.clients} rounds={args.rounds}; "
        f"gunicorn -c gunicorn.conf.py ({workers} sync workers), PostgreSQL "
        f"{PG_URL.rsplit('/', 1)[1]}, Redis {REDIS_URL.rsplit('/', 1)[1]}"
    )
    print(
        f"median: claims {statistics.median(r[0] for r in rows):.0f} requests/s, "
        f"bare POST {statistics.median(r[1] for r in rows):.0f} requests/s, "
        f"ratio {statistics.median(r[2] for r in rows):.1%} (goal ≥ 50%)"
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()

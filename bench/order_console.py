"""Benchmark: the managers' order console (GET /orders) at 1,000,000 orders on PostgreSQL.

    .venv/bin/python bench/order_console.py --orders 1000000 --runs 300

Uses BENCH_DATABASE_URL (default: database `test_h2_bench` on 127.0.0.1, public schema dropped
and rebuilt by the migrations) and BENCH_REDIS_URL (default Redis db 2, flushed). Loads the
orders with one INSERT … SELECT over generate_series (about a minute), then measures through
the Flask test client, so every request runs the route's whole path (token check, schema,
the console query and its capped count, serialisation): the console's first page (one status,
a regional manager, oldest first), beside one primary-key SELECT of an order through the same
app and client, and prints p50 and p99 of both and their ratio. A few other queues follow for
context. --explain prints PostgreSQL's plan of the headline query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import ServiceOrder, StaffUser  # noqa: E402
from service_hub import create_app  # noqa: E402
from service_hub.auth.tokens import Principal  # noqa: E402
from service_hub.orders.console import COUNT_CAP, console_query  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test_h2_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
REGION = "上海市"

# Orders by state, as a city's year looks: an order older than RECENT_DAYS is done (completed
# or cancelled), except a backlog of unassigned ones nobody could find before the console;
# the last days hold the open and waiting ones.
RECENT_DAYS = 3
OLD_SHARES = [("completed", 0.925), ("cancelled", 0.07), ("unassigned", 0.005)]
RECENT_SHARES = [
    ("created", 0.01),
    ("dispatching", 0.02),
    ("offered", 0.08),
    ("unassigned", 0.06),
    ("accepted", 0.30),
    ("en_route", 0.08),
    ("in_service", 0.10),
    ("completed", 0.30),
    ("cancelled", 0.05),
]


def build(reuse: bool = False):
    """The app on a fresh schema of the bench database (created when missing); with `reuse`,
    on the schema and rows a previous run left (migrated to the latest revision)."""
    from flask_migrate import upgrade

    url = PG_URL.replace("postgresql://", "postgresql+psycopg://")
    name = PG_URL.rsplit("/", 1)[1]
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if not reuse:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "INPROCESS_TIMERS": False,
            "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": REDIS_URL,
        }
    )
    with app.app_context():
        upgrade()
    app.extensions["job_queue"].redis.flushdb()
    return app


def _case(shares: list[tuple[str, float]]) -> str:
    """SQL choosing a status from `shares` by the row's random draw `r`."""
    parts, edge = [], 0.0
    for status, share in shares[:-1]:
        edge += share
        parts.append(f"WHEN r < {edge:.4f} THEN '{status}'")
    return f"CASE {' '.join(parts)} ELSE '{shares[-1][0]}' END"


def _status_case() -> str:
    recent = f"now() - interval '{RECENT_DAYS} days'"
    return f"CASE WHEN created > {recent} THEN {_case(RECENT_SHARES)} ELSE {_case(OLD_SHARES)} END"


SEED_SQL = [
    # 20,000 communities, one in ten in 上海市 (the manager's region).
    """
    INSERT INTO community (external_code, name, province, city, district, address, lat, lng,
                           geo_cell, household_count, tier, status, created_at, updated_at)
    SELECT 'B' || n, '小区' || n,
           CASE WHEN n % 10 = 0 THEN '上海市' ELSE '江苏省' END,
           CASE WHEN n % 10 = 0 THEN '上海市' ELSE '南京市' END,
           '区', '路' || n || '号', 31.2, 121.4, 0, 1000, 'B', 'active', now(), now()
    FROM generate_series(1, :communities) AS n
    """,
    """
    INSERT INTO service_type (code, name, skill, duration_minutes, base_price_cents,
                              min_skill_level, active)
    SELECT 'svc' || n, '服务' || n, 'purifier', 60, 9900, 1, true
    FROM generate_series(1, 20) AS n
    """,
    """
    INSERT INTO resident (openid, created_at)
    SELECT 'obench' || lpad(n::text, 20, '0'), now() FROM generate_series(1, :residents) AS n
    """,
    """
    INSERT INTO staff_user (username, password_hash, role, display_name, active, created_at)
    SELECT 'bench_eng' || n, 'x', 'engineer', '师傅' || n, true, now()
    FROM generate_series(1, :engineers) AS n
    """,
    """
    INSERT INTO engineer (staff_user_id, name, bio, years_of_service, on_duty, base_lat,
                          base_lng, created_at)
    SELECT id, display_name, '', 3, true, 31.2, 121.4, now()
    FROM staff_user WHERE role = 'engineer'
    """,
    # The orders: a year of history, created in the order of their ids.
    """
    INSERT INTO service_order (resident_id, community_id, service_type_id, engineer_id, status,
        source, description, photos, completion_photos, version, created_at, updated_at,
        window_start, window_end, sla_state, urge_count, reschedule_count, contact_name,
        contact_mobile, address_text)
    SELECT 1 + (n * 7919) % :residents,
           1 + (n * 104729) % :communities,
           1 + n % 20,
           CASE WHEN status IN ('accepted', 'en_route', 'in_service', 'completed')
                THEN 1 + n % :engineers END,
           status,
           CASE WHEN n % 10 = 0 THEN 'phone' ELSE 'mini_program' END,
           '', '[]', '[]', 1,
           created, created + interval '1 hour',
           CASE WHEN n % 3 = 0 THEN created + interval '1 day' END,
           CASE WHEN n % 3 = 0 THEN created + interval '1 day 2 hours' END,
           CASE WHEN r2 < 0.05 THEN 'breached' WHEN r2 < 0.08 THEN 'at_risk' ELSE 'on_track' END,
           CASE WHEN r2 > 0.97 THEN 1 ELSE 0 END,
           0, '张先生', '138' || lpad((n % 100000000)::text, 8, '0'), '1号楼1单元101'
    FROM (
        SELECT n, r2, created, {status} AS status
        FROM (SELECT n, random() AS r, random() AS r2,
                     now() - (:orders - n) * (interval '365 days' / :orders) AS created
              FROM generate_series(1::bigint, :orders) AS n) AS draws
    ) AS rows
    """,
    # Each offered order holds one pending offer, expiring within the next quarter hour.
    """
    INSERT INTO dispatch_offer (order_id, engineer_id, status, dispatch_breakdown, offered_at,
                                expires_at)
    SELECT id, 1 + id % :engineers, 'pending', '{}', now(),
           now() + (id % 15) * interval '1 minute'
    FROM service_order WHERE status = 'offered'
    """,
]


def seed(app, orders: int) -> None:
    sizes = {
        "orders": orders,
        "communities": 20_000,
        "residents": max(1000, orders // 5),
        "engineers": 2_000,
    }
    with app.app_context():
        for statement in SEED_SQL:
            started = time.perf_counter()
            text = statement.replace("{status}", _status_case())
            db.session.execute(sa.text(text), sizes)
            db.session.commit()
            first = " ".join(statement.split()[:3])
            print(f"  {first} …: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        # As autovacuum leaves a table at rest: statistics, and the visibility map that lets
        # a count be answered from an index alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))


def timed(client, url: str, headers: dict, runs: int) -> list[float]:
    for _ in range(5):  # warm the caches and the connection pool
        client.get(url, headers=headers)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return sorted(times)


def p99(times: list[float]) -> float:
    return times[max(0, int(len(times) * 0.99) - 1)]


def report(label: str, times: list[float]) -> None:
    print(f"{label}: p50 {statistics.median(times):.1f} ms, p99 {p99(times):.1f} ms")


def explain(app, manager_id: int) -> None:
    """PostgreSQL's plan of the headline page and its capped count, as the route runs them."""
    with app.app_context():
        staff = db.session.get(StaffUser, manager_id)
        principal = Principal(kind="staff", id=staff.id, role=staff.role, region=staff.region)
        stmt = console_query(principal, {"status": ["unassigned"], "sort": "created_at"})
        count = (
            stmt.order_by(None)
            .with_only_columns(sa.literal(1), maintain_column_froms=True)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        for label, query in (
            ("page", stmt.limit(20)),
            ("count", sa.select(sa.func.count()).select_from(count)),
        ):
            sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars()
            print(f"--- EXPLAIN {label}")
            print("\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--explain", action="store_true", help="print the headline query plans")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the orders a previous run loaded (migrated)"
    )
    args = parser.parse_args()
    app = build(args.reuse)
    started = time.perf_counter()
    if not args.reuse:
        seed(app, args.orders)
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder))
    took = "reused" if args.reuse else f"loaded in {time.perf_counter() - started:.0f} s"
    print(f"{total:,} orders ({took})")

    run = f"{os.getpid()}-{int(time.time())}"  # fresh accounts, also on a reused database
    manager_id = f.staff(app, "manager", region=REGION, username=f"bench-manager-{run}")
    manager = f.staff_auth(app, manager_id, "manager")
    admin = f.staff_auth(app, f.staff(app, "admin", username=f"bench-admin-{run}"), "admin")
    client = app.test_client()

    # The reference: one primary-key SELECT of an order, through the same app and client
    # (a route the benchmark adds to its own app: no token check, one SELECT, JSON).
    @app.get("/bench/order/<int:order_id>")
    def one_order(order_id: int):
        row = db.session.execute(
            sa.select(ServiceOrder.id, ServiceOrder.status).where(ServiceOrder.id == order_id)
        ).one()
        return {"id": row.id, "status": row.status}

    with app.app_context():
        some_order = db.session.scalar(sa.select(sa.func.max(ServiceOrder.id))) // 2
    headline = "/api/v1/orders?status=unassigned&sort=created_at&order=asc&page_size=20"
    console_times = timed(client, headline, manager, args.runs)
    pk_times = timed(client, f"/bench/order/{some_order}", manager, args.runs)
    print()
    print(f"order console first page (status=unassigned, region {REGION}, oldest first, 20 rows)")
    report("  console page", console_times)
    report("  one PK SELECT", pk_times)
    print(
        f"  ratio console / PK SELECT: p50 "
        f"{statistics.median(console_times) / statistics.median(pk_times):.1f}x, "
        f"p99 {p99(console_times) / p99(pk_times):.1f}x"
    )
    print()
    print("other queues (same manager unless said):")
    for label, url, headers in (
        ("  全部, newest first", "/api/v1/orders?order=desc", manager),
        (
            "  已超时 (breached, open)",
            "/api/v1/orders?sla_state=breached"
            "&status=created,dispatching,offered,unassigned,accepted,en_route,in_service",
            manager,
        ),
        (
            "  被催单 (urged, open)",
            "/api/v1/orders?urged=true"
            "&status=created,dispatching,offered,unassigned,accepted,en_route,in_service",
            manager,
        ),
        ("  派单即将超时 (10 min)", "/api/v1/orders?offer_expiring_within=10", manager),
        ("  未派单, admin (all regions)", headline, admin),
        ("  one order's detail GET /orders/{id}", f"/api/v1/orders/{some_order}", admin),
    ):
        report(label, timed(client, url, headers, max(20, args.runs // 5)))
    if args.explain:
        explain(app, manager_id)


if __name__ == "__main__":
    main()

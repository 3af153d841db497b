"""Benchmark: the periodic SLA check (service_hub/sla/checks.py) at 1,000,000 orders on
PostgreSQL, beside one primary-key SELECT of an order in the same run.

    .venv/bin/python bench/sla_check.py --orders 1000000 --runs 50 [--explain]

Uses BENCH_DATABASE_URL (default: database `test_h4_bench` on 127.0.0.1, public schema dropped
and rebuilt by the migrations) and BENCH_REDIS_URL (default Redis db 4, flushed). Loads a
year of orders with one INSERT … SELECT (the last three days hold the open ones, with their
deadlines), lets the check work off the backlog of late orders, then times runs of the check
at rest (what it costs every minute) against one PK SELECT, and prints p50, p99 and ratios.
--explain prints PostgreSQL's plans of the check's queries.
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

from models import ServiceOrder, SlaBreach, SlaState, SlaStep  # noqa: E402
from models.order import in_sla_step  # noqa: E402
from service_hub import create_app  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from service_hub.sla.checks import check_promises  # noqa: E402
from service_hub.sla.deadlines import DUE_COLUMNS  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test_h4_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")

SEED_SQL = [
    """
    INSERT INTO community (external_code, name, province, city, district, address, lat, lng,
                           geo_cell, household_count, tier, status, created_at, updated_at)
    SELECT 'B' || n, '小区' || n, '上海市', '上海市', '区', '路' || n || '号', 31.2, 121.4, 0,
           1000, 'B', 'active', now(), now()
    FROM generate_series(1, 2000) AS n
    """,
    """
    INSERT INTO service_type (code, name, skill, duration_minutes, base_price_cents,
                              min_skill_level, active, sla_accept_minutes, sla_arrive_minutes,
                              sla_complete_minutes)
    SELECT 'svc' || n, '服务' || n, 'purifier', 60, 9900, 1, true, 30, 30, 240
    FROM generate_series(1, 20) AS n
    """,
    """
    INSERT INTO resident (openid, created_at)
    SELECT 'obench' || lpad(n::text, 20, '0'), now() FROM generate_series(1, 50000) AS n
    """,
    """
    INSERT INTO staff_user (username, password_hash, role, display_name, active, created_at)
    SELECT 'bench_eng' || n, 'x', 'engineer', '师傅' || n, true, now()
    FROM generate_series(1, 500) AS n
    """,
    """
    INSERT INTO engineer (staff_user_id, name, bio, years_of_service, on_duty, base_lat,
                          base_lng, created_at)
    SELECT id, display_name, '', 3, true, 31.2, 121.4, now() FROM staff_user
    """,
    # A year of orders; older than three days: done; the last three days: every state, with
    # the deadlines the lifecycle would have set.
    """
    INSERT INTO service_order (resident_id, community_id, service_type_id, engineer_id, status,
        source, description, photos, completion_photos, version, created_at, updated_at,
        accepted_at, started_at, accept_due_at, arrive_due_at, complete_due_at, sla_state,
        urge_count, reschedule_count)
    SELECT 1 + n % 50000, 1 + n % 2000, 1 + n % 20,
           CASE WHEN status IN ('accepted', 'en_route', 'in_service', 'completed')
                THEN 1 + n % 500 END,
           status, 'mini_program', '', '[]', '[]', 1, created, created,
           CASE WHEN status IN ('accepted', 'en_route', 'in_service', 'completed')
                THEN created + interval '10 minutes' END,
           CASE WHEN status IN ('in_service', 'completed') THEN created + interval '1 hour' END,
           created + interval '30 minutes',
           CASE WHEN status IN ('accepted', 'en_route', 'in_service', 'completed')
                THEN created + interval '40 minutes' END,
           CASE WHEN status IN ('in_service', 'completed') THEN created + interval '5 hours' END,
           'on_track', 0, 0
    FROM (
        SELECT n, created,
               CASE WHEN created < now() - interval '3 days'
                    THEN CASE WHEN r < 0.93 THEN 'completed' ELSE 'cancelled' END
                    ELSE (ARRAY['created', 'dispatching', 'offered', 'unassigned', 'accepted',
                                'en_route', 'in_service', 'completed'])[1 + floor(r * 8)::int]
               END AS status
        FROM (SELECT n, random() AS r,
                     now() - (:orders - n) * (interval '365 days' / :orders) AS created
              FROM generate_series(1::bigint, :orders) AS n) AS draws
    ) AS rows
    """,
]


def build():
    """The app on a fresh schema of the bench database (created when missing)."""
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


def seed(app, orders: int) -> None:
    with app.app_context():
        for statement in SEED_SQL:
            db.session.execute(sa.text(statement), {"orders": orders})
            db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))


def timed(fn, runs: int) -> list[float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def p99(times: list[float]) -> float:
    return times[max(0, int(len(times) * 0.99) - 1)]


def explain(app) -> None:
    """PostgreSQL's plans of the check's two queries per step, as it runs them."""
    with app.app_context():
        now = sa.func.now()
        for step in SlaStep:
            due = getattr(ServiceOrder, DUE_COLUMNS[step])
            recorded = sa.exists().where(
                SlaBreach.order_id == ServiceOrder.id, SlaBreach.step == step.value
            )
            for label, query in (
                (
                    "breached",
                    sa.select(ServiceOrder.id)
                    .where(in_sla_step(step), due < now, ~recorded)
                    .order_by(due)
                    .limit(1000),
                ),
                (
                    "at risk",
                    sa.select(ServiceOrder.id)
                    .where(
                        in_sla_step(step),
                        due >= now,
                        due <= now + sa.text("interval '48 minutes'"),
                        ServiceOrder.sla_state == SlaState.ON_TRACK.value,
                    )
                    .limit(1000),
                ),
            ):
                sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
                plan = db.session.execute(sa.text(f"EXPLAIN ANALYZE {sql}")).scalars()
                print(f"--- {step} {label}")
                print("\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    app = build()
    started = time.perf_counter()
    seed(app, args.orders)
    print(f"{args.orders:,} orders loaded in {time.perf_counter() - started:.0f} s")
    with app.app_context():
        backlog, rounds = time.perf_counter(), 0
        while True:  # the late orders of the last days: recorded, 1,000 per step per run
            rounds += 1
            result = check_promises()
            if result["breached"] == 0 and result["at_risk"] == 0:
                break
        breaches = db.session.scalar(sa.select(sa.func.count()).select_from(SlaBreach))
        db.session.commit()
        # As autovacuum leaves the tables the backlog wrote: current statistics.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE sla_breach, service_order"))
        print(
            f"backlog: {breaches:,} breaches recorded in {rounds} runs, "
            f"{time.perf_counter() - backlog:.1f} s"
        )
        some_order = args.orders // 2

        def one_pk_select():
            db.session.execute(
                sa.select(ServiceOrder.id, ServiceOrder.status).where(ServiceOrder.id == some_order)
            ).one()
            db.session.rollback()

        check_times = timed(check_promises, args.runs)
        pk_times = timed(one_pk_select, args.runs)
    print(
        f"SLA check at rest: p50 {statistics.median(check_times):.1f} ms, "
        f"p99 {p99(check_times):.1f} ms"
    )
    print(
        f"one PK SELECT:     p50 {statistics.median(pk_times):.2f} ms, p99 {p99(pk_times):.2f} ms"
    )
    print(
        f"ratio check / PK SELECT: p50 "
        f"{statistics.median(check_times) / statistics.median(pk_times):.0f}x"
    )
    if args.explain:
        explain(app)


if __name__ == "__main__":
    main()

"""KPI rollups: kept as events happen, rebuildable, read by region."""

import csv
import io

import pytest
import sqlalchemy as sa

from models import CommunityMonthKpi
from models.base import utcnow
from service_hub.kpis import rollup
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import month_of
from tests import factories as f


def snapshot(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(sa.select(CommunityMonthKpi)).all()
        return sorted(
            (r.community_id, r.month, *(getattr(r, c) for c in rollup.COUNTERS)) for r in rows
        )


def run_orders(app, client, run_jobs, community_id: int, outcomes: list[str]) -> None:
    """Create one order per outcome and drive it there through the API."""
    resident_id = f.resident(app, communities=(community_id,))
    auth = f.resident_auth(app, resident_id)
    service_id = f.service_type(app)
    engineer_id = f.engineer(app, communities=(community_id,))
    engineer = f.engineer_auth(app, engineer_id)

    def step(name: str, path: str, headers: dict, body: dict, status: int = 200) -> dict:
        response = client.post(path, headers=headers, json=body)
        assert response.status_code == status, (name, response.json)
        return response.json

    for outcome in outcomes:
        body = {"community_id": community_id, "service_type_id": service_id}
        order_id = step("create order", "/api/v1/orders", auth, body, 201)["id"]
        order = f"/api/v1/orders/{order_id}"
        if outcome == "cancel":
            step("cancel", f"{order}/cancel", auth, {})
            continue
        run_jobs()
        for action in ("accept", "en-route", "start", "complete"):
            step(action, f"{order}/{action}", engineer, {})
        step("review", f"{order}/review", auth, {"rating": 3}, 201)
        if outcome == "complain":
            step("complain", f"{order}/complain", auth, {"reason": "没有清理现场"})


@pytest.fixture
def month(app) -> str:
    with app.app_context():
        return month_of(utcnow())


def test_rebuilt_rollups_equal_the_incremental_ones(app, client, run_jobs):
    run_orders(app, client, run_jobs, f.community(app), ["complete", "cancel", "complain"])
    run_orders(app, client, run_jobs, f.community(app), ["complete"])
    incremental = snapshot(app)
    with app.app_context():
        rollup.rebuild()
    assert snapshot(app) == incremental
    assert len(incremental) == 2


def test_the_table_counts_orders_completions_and_complaints(app, client, run_jobs, month):
    community_id = f.community(app, household_count=2000)
    run_orders(app, client, run_jobs, community_id, ["complete", "cancel", "complain"])
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    [row] = client.get(f"/api/v1/kpis/communities?month={month}", headers=manager).json["items"]
    assert (row["orders"], row["completed"], row["cancelled"], row["complaints"]) == (3, 2, 1, 1)
    assert (row["orders_per_1000"], row["complaints_per_1000"]) == (1.5, 0.5)


def test_a_regional_manager_sees_only_their_region(app, client, run_jobs, month):
    shanghai = f.community(app)
    beijing = f.community(app, province="北京市", city="北京市", district="朝阳区")
    run_orders(app, client, run_jobs, shanghai, ["complete"])
    run_orders(app, client, run_jobs, beijing, ["complete"])
    manager = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    items = client.get(f"/api/v1/kpis/communities?month={month}", headers=manager).json["items"]
    assert [r["community_id"] for r in items] == [beijing]


def test_a_regional_manager_cannot_read_another_regions_series(app, client):
    shanghai = f.community(app)
    manager = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    response = client.get(f"/api/v1/kpis/communities/{shanghai}", headers=manager)
    assert response.status_code == 404


def test_the_series_fills_quiet_months_with_zeros(app, client, run_jobs, month):
    community_id = f.community(app)
    run_orders(app, client, run_jobs, community_id, ["complete"])
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    path = f"/api/v1/kpis/communities/{community_id}?months=3&until={month}"
    series = client.get(path, headers=manager).json["months"]
    assert [m["orders"] for m in series] == [0, 0, 1]
    assert series[-1]["month"] == month


def test_a_malformed_month_is_refused(app, client):
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.get("/api/v1/kpis/communities?month=2026-13", headers=manager)
    assert response.status_code == 422
    assert "month" in response.json["error"]["fields"]


def test_month_over_month_and_year_over_year_compare_with_earlier_rollups(app, client, month):
    # A complete month (the one before this), since a month still running is not compared.
    from service_hub.kpis.queries import shift_month

    community_id = f.community(app)
    last = shift_month(month, -1)
    with app.app_context():
        for back, orders in ((0, 2), (1, 4), (12, 2)):
            db.session.add(
                CommunityMonthKpi(
                    community_id=community_id,
                    month=shift_month(last, -back),
                    orders_created=orders,
                )
            )
        db.session.commit()
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    [row] = client.get(f"/api/v1/kpis/communities?month={last}", headers=manager).json["items"]
    assert (row["orders_mom"], row["orders_yoy"]) == (-0.5, 0.0)


def test_acceptance_punctuality_and_active_residents_are_counted(app, client, run_jobs, month):
    community_id = f.community(app)
    run_orders(app, client, run_jobs, community_id, ["complete", "complete"])
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    [row] = client.get(f"/api/v1/kpis/communities?month={month}", headers=manager).json["items"]
    assert row["active_residents"] == 1  # one resident, two orders
    assert row["accept_minutes"] is not None and row["accept_minutes"] >= 0
    assert row["on_time_rate"] is None  # no order asked for a window
    assert 0 <= row["satisfaction_index"] <= 100  # rated 3★ twice


def test_the_table_filters_by_tier(app, client, run_jobs, month):
    run_orders(app, client, run_jobs, f.community(app, tier="A"), ["complete"])
    tier_b = f.community(app, tier="B")
    run_orders(app, client, run_jobs, tier_b, ["complete"])
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    items = client.get(f"/api/v1/kpis/communities?month={month}&tier=B", headers=manager).json[
        "items"
    ]
    assert [r["community_id"] for r in items] == [tier_b]


def test_the_table_exports_csv(app, client, run_jobs, month):
    run_orders(app, client, run_jobs, f.community(app), ["complete"])
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.get(f"/api/v1/kpis/communities?month={month}&format=csv", headers=manager)
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("community_id,community_name,tier,month")
    assert len(lines) == 2


def test_a_community_name_that_is_a_formula_is_exported_as_text(app, client, month):
    f.community(app, name="=cmd|' /C calc'!A0")
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.get(f"/api/v1/kpis/communities?month={month}&format=csv", headers=manager)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["community_name"] for row in rows] == ["'=cmd|' /C calc'!A0"]


def test_a_sharp_drop_in_orders_is_a_health_warning():
    from service_hub.kpis.measures import health_warnings

    now = {"orders": 2, "complaints": 0, "rating_count": 0, "average_rating": None, "completed": 2}
    before = {"orders": 10, "complaints": 0}
    assert health_warnings(now, before) == ["falling_volume"]


def test_rollups_rebuilt_from_events_count_acceptance_and_residents_alike(app, client, run_jobs):
    run_orders(app, client, run_jobs, f.community(app), ["complete", "cancel", "complete"])
    incremental = snapshot(app)
    with app.app_context():
        rollup.rebuild()
    assert snapshot(app) == incremental


def test_a_quiet_community_is_listed_with_zeros_at_the_bottom(app, client, run_jobs, month):
    busy = f.community(app)
    quiet = f.community(app)
    run_orders(app, client, run_jobs, busy, ["complete"])
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    items = client.get(f"/api/v1/kpis/communities?month={month}", headers=manager).json["items"]
    assert [(r["community_id"], r["orders"]) for r in items] == [(busy, 1), (quiet, 0)]


def test_rebuilt_rollups_keep_what_the_table_sorts_by(app, client, run_jobs):
    run_orders(app, client, run_jobs, f.community(app, household_count=2000), ["complete"])
    run_orders(app, client, run_jobs, f.community(app, household_count=0), ["complain"])
    context = ("households", "orders_before", "complaints_before", "orders_year_ago")

    def sortable(app) -> list[tuple]:
        with app.app_context():
            rows = db.session.scalars(sa.select(CommunityMonthKpi)).all()
            figures = ("orders_per_1000", "satisfaction_index", "first_time_fix_rate")
            return sorted(
                (r.community_id, *(getattr(r, c) for c in (*context, *figures))) for r in rows
            )

    incremental = sortable(app)
    with app.app_context():
        rollup.rebuild()
    assert sortable(app) == incremental
    assert [row[1] for row in incremental] == [2000, 0]

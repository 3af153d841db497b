"""Promises kept (SLA): every order knows its deadlines and SLA state; the periodic check
marks orders at risk and breached, counts each breach once, alerts the region's managers and
passes an unanswered offer on before the acceptance deadline (docs/sla.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import (
    CommunityMonthKpi,
    DispatchOffer,
    EngineerMonthKpi,
    OrderStatus,
    ServiceType,
    SlaBreach,
    SlaState,
)
from service_hub import wiring
from service_hub.kpis import rollup
from service_hub.plumbing.extensions import db
from service_hub.sla.checks import check_promises
from service_hub.sla.deadlines import risk_margin, state_of
from tests import factories as f
from tests.sla_world import make_world, window

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(app, client, run_jobs):
    return make_world(app, client, run_jobs, engineers=2)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes_before_due", "state"),
    [(25, "on_track"), (11, "on_track"), (10, "at_risk"), (1, "at_risk"), (-1, "breached")],
)
def test_a_thirty_minute_step_is_at_risk_in_its_last_ten_minutes(minutes_before_due, state):
    due = T0 + timedelta(minutes=30)
    assert state_of(due, 30, due - timedelta(minutes=minutes_before_due)) == state


def test_a_long_step_is_at_risk_once_eighty_percent_of_its_target_is_gone():
    due = T0 + timedelta(minutes=240)
    assert state_of(due, 240, due - timedelta(minutes=49)) == SlaState.ON_TRACK
    assert state_of(due, 240, due - timedelta(minutes=48)) == SlaState.AT_RISK
    assert risk_margin(240) == timedelta(minutes=48)


def test_a_step_without_a_target_is_always_on_track():
    assert state_of(None, None, T0) == SlaState.ON_TRACK


# --- deadlines ------------------------------------------------------------------------------


def test_a_new_order_must_be_accepted_within_its_service_target(world):
    order = world.get(world.order())
    assert _at(order["accept_due_at"]) - _at(order["created_at"]) == timedelta(minutes=30)
    assert (order["sla_state"], order["arrive_due_at"]) == ("on_track", None)


def test_an_order_with_a_window_must_be_reached_within_the_target_after_it_starts(world):
    asked = window(days=1)
    order = world.get(world.order(**asked))
    due = _at(order["arrive_due_at"]) - _at(asked["window_start"])
    assert due == timedelta(minutes=30)


def test_an_order_without_a_window_must_be_reached_within_the_target_after_acceptance(world):
    order = world.get(world.accepted())
    assert _at(order["arrive_due_at"]) - _at(order["accepted_at"]) == timedelta(minutes=30)


def test_starting_the_work_stamps_the_arrival_and_sets_the_completion_deadline(world):
    order_id = world.accepted()
    world.do("en-route", order_id, world.engineer_auth())
    order = world.do("start", order_id, world.engineer_auth())
    assert _at(order["complete_due_at"]) - _at(order["started_at"]) == timedelta(minutes=240)


def test_a_service_type_without_an_acceptance_target_gives_no_deadline(app, client, run_jobs):
    world = make_world(app, client, run_jobs)
    with app.app_context():
        db.session.execute(
            sa.update(ServiceType)
            .where(ServiceType.id == world.service)
            .values(sla_accept_minutes=None)
        )
        db.session.commit()
    assert world.get(world.order())["accept_due_at"] is None


# --- the periodic check ---------------------------------------------------------------------


def test_the_check_is_declared_with_the_periodic_jobs():
    assert check_promises in [job for job, _, _ in wiring.PERIODIC_JOBS]


def test_an_order_near_its_acceptance_deadline_is_at_risk(world):
    order_id = world.order()
    world.shift(order_id, 25)  # 5 of its 30 minutes left
    result = world.check()
    assert (result["at_risk"], world.column(order_id, "sla_state")) == (1, "at_risk")


def test_an_order_far_from_its_deadline_stays_on_track(world):
    order_id = world.order()
    world.shift(order_id, 10)
    assert world.check()["at_risk"] == 0
    assert world.column(order_id, "sla_state") == "on_track"


def test_an_order_past_its_deadline_is_breached_and_counted_once(world, app):
    order_id = world.order()
    world.shift(order_id, 31)
    first = world.check()
    again = world.check()
    assert (first["breached"], again["breached"]) == (1, 0)
    assert world.column(order_id, "sla_state") == "breached"
    with app.app_context():
        kpi = db.session.scalars(sa.select(CommunityMonthKpi)).one()
        breaches = db.session.scalar(sa.select(sa.func.count()).select_from(SlaBreach))
    assert (kpi.sla_breaches, breaches) == (1, 1)


def test_an_acceptance_breach_is_not_held_against_an_engineer(world, app):
    world.shift(world.order(), 31)
    world.check()
    with app.app_context():
        assert db.session.scalars(sa.select(EngineerMonthKpi)).all() == []


def test_a_late_arrival_counts_against_the_engineer(world, app):
    world.shift(world.accepted(), 31)
    world.check()
    with app.app_context():
        kpi = db.session.scalars(sa.select(EngineerMonthKpi)).one()
    assert (kpi.engineer_id, kpi.sla_breaches) == (world.engineers[0], 1)


def test_an_order_accepted_after_its_deadline_is_breached_without_the_check(world, app):
    order_id = world.order()
    world.shift(order_id, 31)
    order = world.do("accept", order_id, world.engineer_auth())
    assert order["sla_state"] == "breached"
    assert world.check()["breached"] == 0  # the check finds it recorded already
    with app.app_context():
        assert db.session.scalars(sa.select(SlaBreach.step)).all() == ["accept"]


def test_a_breached_order_stays_breached_when_it_moves_on(world):
    order_id = world.order()
    world.shift(order_id, 31)
    world.check()
    order = world.do("accept", order_id, world.engineer_auth())
    assert order["sla_state"] == "breached"
    assert order["sla_breached_at"] is not None


def test_an_order_at_risk_that_is_accepted_in_time_is_on_track_again(world):
    order_id = world.order()
    world.shift(order_id, 25)
    world.check()
    assert world.column(order_id, "sla_state") == "at_risk"
    # the offer passed on early went to engineer 1, who accepts in time
    assert world.do("accept", order_id, world.engineer_auth(1))["sla_state"] == "on_track"


def test_an_unanswered_offer_is_passed_on_when_acceptance_is_at_risk(world, app):
    order_id = world.order()
    world.shift(order_id, 25)
    result = world.check()
    with app.app_context():
        offers = db.session.execute(
            sa.select(DispatchOffer.engineer_id, DispatchOffer.status)
            .where(DispatchOffer.order_id == order_id)
            .order_by(DispatchOffer.id)
        ).all()
    assert result["redispatched"] == 1
    assert [tuple(o) for o in offers] == [
        (world.engineers[0], "expired"),
        (world.engineers[1], "pending"),
    ]
    assert world.column(order_id, "status") == OrderStatus.OFFERED


def test_an_offer_is_passed_on_early_only_once(world, app):
    order_id = world.order()
    world.shift(order_id, 25)
    world.check()
    assert world.check()["redispatched"] == 0


# --- alerts ---------------------------------------------------------------------------------


def _alerts(world, headers: dict) -> dict:
    response = world.client.get("/api/v1/staff/alerts", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def managers(app) -> dict:
    return {
        "here": f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager"),
        "there": f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager"),
        "admin": f.staff_auth(app, f.staff(app, "admin"), "admin"),
    }


def _breach_one(world) -> int:
    order_id = world.order()
    world.shift(order_id, 31)
    world.check()
    return order_id


def test_a_breach_is_alerted_to_the_managers_of_its_region(world, managers):
    order_id = _breach_one(world)
    [alert] = _alerts(world, managers["here"])["items"]
    assert (alert["kind"], alert["order_id"], alert["read"]) == ("sla_breached", order_id, False)
    assert "接单超时" in alert["text"]


def test_managers_of_another_region_do_not_see_the_alert(world, managers):
    _breach_one(world)
    seen = _alerts(world, managers["there"])
    assert (seen["items"], seen["unread"]) == ([], 0)


def test_admins_see_every_region_s_alerts(world, managers):
    _breach_one(world)
    assert _alerts(world, managers["admin"])["unread"] == 1


def test_a_breach_found_twice_is_alerted_once(world, managers):
    _breach_one(world)
    world.check()
    assert _alerts(world, managers["here"])["total"] == 1


def test_a_manager_marks_alerts_read_for_themselves_only(world, managers):
    _breach_one(world)
    marked = world.client.post("/api/v1/staff/alerts/read", headers=managers["here"], json={})
    assert (marked.status_code, marked.json) == (200, {"marked": 1, "unread": 0})
    assert _alerts(world, managers["admin"])["unread"] == 1


def test_marking_an_alert_outside_the_region_read_does_nothing(world, managers):
    _breach_one(world)
    [alert] = _alerts(world, managers["admin"])["items"]
    marked = world.client.post(
        "/api/v1/staff/alerts/read", headers=managers["there"], json={"ids": [alert["id"]]}
    )
    assert marked.json["marked"] == 0


def test_an_unassigned_order_near_its_deadline_is_alerted(app, client, run_jobs, managers):
    world = make_world(app, client, run_jobs, engineers=0)
    world.engineers = [f.engineer(app)]  # serves no community: nobody can take the order
    order_id = world.order()
    assert world.column(order_id, "status") == OrderStatus.UNASSIGNED
    world.shift(order_id, 25)
    world.check()
    world.check()
    [alert] = _alerts(world, managers["here"])["items"]
    assert (alert["kind"], alert["order_id"]) == ("unassigned_at_risk", order_id)


# --- KPIs -----------------------------------------------------------------------------------


def _kpis(app) -> tuple[list, list]:
    with app.app_context():
        communities = sorted(
            (r.community_id, r.month, *(getattr(r, c) for c in rollup.COUNTERS))
            for r in db.session.scalars(sa.select(CommunityMonthKpi))
        )
        engineers = sorted(
            (r.engineer_id, r.month, *(getattr(r, c) for c in rollup.ENGINEER_COUNTERS))
            for r in db.session.scalars(sa.select(EngineerMonthKpi))
        )
    return communities, engineers


def test_rebuilt_rollups_equal_the_incremental_ones_with_breaches_urges_and_repeat_visits(
    world, app
):
    late = world.accepted()
    world.shift(late, 31, "accepted_at", "arrive_due_at")  # created in time, arriving late
    world.check()
    world.do("urge", late, world.auth)
    urged_waiting = world.order()
    world.do("urge", urged_waiting, world.auth)
    first = world.completed()
    world.do("second-visit", first, world.engineer_auth(), {"reason": "配件到货后更换"})
    incremental = _kpis(app)
    with app.app_context():
        rollup.rebuild()
    assert _kpis(app) == incremental
    (community_row,), (engineer_row,) = incremental
    named = dict(zip(rollup.COUNTERS, community_row[2:], strict=True))
    assert (named["sla_breaches"], named["urges"], named["repeat_visits"]) == (1, 2, 1)
    by_engineer = dict(zip(rollup.ENGINEER_COUNTERS, engineer_row[2:], strict=True))
    assert by_engineer == {
        "orders_completed": 1,
        "sla_breaches": 1,
        "urges": 1,  # the waiting order's urge is nobody's
        "repeat_visits": 1,
        "disputes": 0,
    }

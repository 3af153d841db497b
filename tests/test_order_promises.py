"""What residents and engineers do about a promise: urge (催单), reschedule, propose a window
and answer it, and a second visit (二次上门), each with its bad inputs (docs/sla.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from models import CommunityMonthKpi, EngineerCommunity, EngineerMonthKpi, InboxNotification
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests.sla_world import make_world, window


@pytest.fixture
def world(app, client, run_jobs):
    return make_world(app, client, run_jobs)


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- urge (催单) ----------------------------------------------------------------------------


def test_a_resident_urges_a_waiting_order(world):
    order = world.do("urge", world.order(), world.auth)
    assert (order["urge_count"], order["status"]) == (1, "offered")
    assert order["last_urged_at"] is not None


def test_the_engineer_sees_an_urge_in_the_order_and_its_timeline(world):
    order_id = world.accepted()
    world.do("urge", order_id, world.auth)
    seen = world.get(order_id, world.engineer_auth())
    assert seen["urge_count"] == 1
    assert seen["timeline"][-1]["action"] == "urge"


def test_an_urge_counts_for_the_community_and_the_engineer(world, app):
    world.do("urge", world.accepted(), world.auth)
    with app.app_context():
        community = db.session.scalars(sa.select(CommunityMonthKpi)).one()
        engineer = db.session.scalars(sa.select(EngineerMonthKpi)).one()
    assert (community.urges, engineer.urges) == (1, 1)


def test_urging_again_within_ten_minutes_is_too_soon(world):
    order_id = world.order()
    world.do("urge", order_id, world.auth)
    again = world.step("urge", order_id, world.auth)
    assert _error(again) == (429, "urge_too_soon")
    assert 590 <= int(again.headers["Retry-After"]) <= 601
    assert again.json["error"]["message_zh"]


def test_a_refused_urge_leaves_the_count_alone(world):
    order_id = world.order()
    world.do("urge", order_id, world.auth)
    world.step("urge", order_id, world.auth)
    assert world.column(order_id, "urge_count") == 1


def test_an_order_is_urged_at_most_five_times(world):
    order_id = world.order()
    for _ in range(5):
        world.do("urge", order_id, world.auth)
        world.shift(order_id, 11, "last_urged_at")
    assert _error(world.step("urge", order_id, world.auth)) == (409, "urge_limit")


def test_a_completed_order_cannot_be_urged(world):
    assert _error(world.step("urge", world.completed(), world.auth)) == (409, "illegal_transition")


# --- reschedule -----------------------------------------------------------------------------


def _reschedule(world, order_id: int, body: dict | None = None, **extra):
    body = {**(body or window(days=2)), "reason": "临时出差", **extra}
    return world.step("reschedule", order_id, world.auth, body)


def test_a_resident_moves_the_window_and_the_arrival_deadline_moves_with_it(world):
    order_id = world.accepted(**window(days=1))
    new = window(days=3)
    order = _reschedule(world, order_id, new).json
    assert (_at(order["window_start"]), order["reschedule_count"]) == (
        _at(new["window_start"]),
        1,
    )
    assert _at(order["arrive_due_at"]) == _at(new["window_start"]) + timedelta(minutes=30)


def test_the_engineer_reads_the_reason_in_the_timeline(world):
    order_id = world.accepted()
    _reschedule(world, order_id)
    last = world.get(order_id, world.engineer_auth())["timeline"][-1]
    assert (last["action"], last["reason"]) == ("reschedule", "临时出差")


def test_a_window_is_moved_at_most_twice(world):
    order_id = world.accepted()
    for days in (2, 3):
        assert _reschedule(world, order_id, window(days=days)).status_code == 200
    assert _error(_reschedule(world, order_id, window(days=4))) == (409, "reschedule_limit")


def test_a_window_cannot_move_into_the_past(world):
    response = _reschedule(world, world.accepted(), window(days=-1))
    assert _error(response) == (422, "validation_error")
    assert "window_start" in response.json["error"]["fields"]


def test_a_window_cannot_move_beyond_the_business_range(world, app):
    days = app.config["ORDER_WINDOW_MAX_DAYS_AHEAD"] + 1
    assert _error(_reschedule(world, world.accepted(), window(days=days))) == (
        422,
        "validation_error",
    )


def test_a_window_must_end_after_it_starts(world):
    start = utcnow() + timedelta(days=2)
    body = {"window_start": start.isoformat(), "window_end": start.isoformat()}
    response = _reschedule(world, world.accepted(), body)
    assert response.json["error"]["fields"] == {"window_end": ["must be after window_start"]}


def test_a_reschedule_needs_a_reason(world):
    response = world.step("reschedule", world.accepted(), world.auth, window(days=2))
    assert (_error(response), response.json["error"]["fields"]) == (
        (422, "validation_error"),
        {"reason": ["required"]},
    )


def test_a_reschedule_needs_the_new_window(world):
    response = world.step("reschedule", world.accepted(), world.auth, {"reason": "改期"})
    assert response.json["error"]["fields"] == {"window_start": ["required"]}


def test_a_refused_reschedule_leaves_the_window_alone(world):
    asked = window(days=1)
    order_id = world.accepted(**asked)
    _reschedule(world, order_id, window(days=-1))
    assert _at(world.get(order_id)["window_start"]) == _at(asked["window_start"])


def test_an_order_on_its_way_cannot_be_rescheduled(world):
    order_id = world.accepted()
    world.do("en-route", order_id, world.engineer_auth())
    assert _error(_reschedule(world, order_id)) == (409, "illegal_transition")


# --- the engineer proposes a window ---------------------------------------------------------


def _propose(world, order_id: int, days: float = 2) -> dict:
    proposed = window(days=days)
    world.do("propose-window", order_id, world.engineer_auth(), proposed)
    return proposed


def test_the_resident_is_told_of_a_proposed_window(world, app):
    order_id = world.accepted()
    _propose(world, order_id)
    world.run_jobs()
    with app.app_context():
        notice = db.session.scalars(
            sa.select(InboxNotification).where(InboxNotification.kind == "window_proposed")
        ).one()
    assert (notice.resident_id, notice.title) == (world.resident, "工程师建议调整上门时间")


def test_accepting_a_proposal_moves_the_window_and_clears_it(world):
    order_id = world.accepted(**window(days=1))
    proposed = _propose(world, order_id)
    order = world.do("accept-window", order_id, world.auth)
    assert _at(order["window_start"]) == _at(proposed["window_start"])
    assert (order["proposed_window_start"], order["reschedule_count"]) == (None, 0)
    assert _at(order["arrive_due_at"]) == _at(proposed["window_start"]) + timedelta(minutes=30)


def test_declining_a_proposal_keeps_the_window(world):
    asked = window(days=1)
    order_id = world.accepted(**asked)
    _propose(world, order_id)
    order = world.do("decline-window", order_id, world.auth)
    assert _at(order["window_start"]) == _at(asked["window_start"])
    assert order["proposed_window_start"] is None


@pytest.mark.parametrize("answer", ["accept-window", "decline-window"])
def test_there_is_nothing_to_answer_without_a_proposal(world, answer):
    assert _error(world.step(answer, world.accepted(), world.auth)) == (409, "no_proposal")


def test_a_proposal_needs_a_window(world):
    response = world.step("propose-window", world.accepted(), world.engineer_auth(), {})
    assert _error(response) == (422, "validation_error")


# --- second visit (二次上门) ------------------------------------------------------------------

REASON = {"reason": "配件到货后更换滤芯"}


def test_a_second_visit_is_a_new_order_for_the_same_engineer(world):
    first = world.completed()
    visit = world.do("second-visit", first, world.engineer_auth(), REASON)
    assert visit["id"] != first
    assert (visit["parent_order_id"], visit["status"], visit["engineer_id"]) == (
        first,
        "accepted",
        world.engineers[0],
    )
    mine = world.get(first)
    assert {k: visit[k] for k in ("resident_id", "community_id", "service_type_id")} == {
        k: mine[k] for k in ("resident_id", "community_id", "service_type_id")
    }


def test_a_second_visit_counts_as_a_repeat_visit(world, app):
    world.do("second-visit", world.completed(), world.engineer_auth(), REASON)
    with app.app_context():
        community = db.session.scalars(sa.select(CommunityMonthKpi)).one()
        engineer = db.session.scalars(sa.select(EngineerMonthKpi)).one()
    assert (community.repeat_visits, engineer.repeat_visits, engineer.orders_completed) == (
        1,
        1,
        1,
    )


def test_a_second_visit_is_dispatched_when_the_engineer_no_longer_serves_there(world, app):
    first = world.completed()
    with app.app_context():
        db.session.execute(sa.delete(EngineerCommunity))
        db.session.commit()
    visit = world.do("second-visit", first, world.engineer_auth(), REASON)
    assert (visit["status"], visit["engineer_id"]) == ("created", None)


def test_an_open_order_has_no_second_visit(world):
    response = world.step("second-visit", world.accepted(), world.engineer_auth(), REASON)
    assert _error(response) == (409, "illegal_transition")


def test_a_second_visit_is_booked_once_while_it_is_open(world):
    first = world.completed()
    world.do("second-visit", first, world.engineer_auth(), REASON)
    again = world.step("second-visit", first, world.engineer_auth(), REASON)
    assert _error(again) == (409, "second_visit_open")


def test_a_second_visit_needs_a_reason(world):
    response = world.step("second-visit", world.completed(), world.engineer_auth(), {})
    assert _error(response) == (422, "validation_error")

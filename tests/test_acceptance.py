"""The resident's acceptance of completed work (完工验收): completed work waits for the resident,
who confirms it (with an optional signature) or disputes it (a reason, photos: a follow-up and a
KPI count); unanswered work is confirmed by a periodic job. Only accepted work counts as done:
points, standing, the coupon spent and the butler's reward come at acceptance, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from dispatch import standing
from models import (
    ButlerBinding,
    CommunityMonthKpi,
    Coupon,
    EngineerCommunity,
    FollowUp,
    OrderEvent,
)
from models.base import utcnow
from service_hub.completion.service import confirm_overdue
from service_hub.kpis import rollup
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import month_of
from service_hub.points import ledger
from tests import factories as f
from tests.completion_world import make_world
from tests.test_coupons_support import claim, create_campaign, manager


@pytest.fixture
def world(app, client, run_jobs):
    return make_world(app, client, run_jobs)


def points_of(app, engineer_id: int) -> int:
    with app.app_context():
        return ledger.balance("engineer", engineer_id)


def events_of(app, order_id: int, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).where(
                OrderEvent.order_id == order_id, OrderEvent.action == action
            )
        )


def auto_confirm(app, hours_later: float) -> int:
    """Run the periodic auto-confirmation as if `hours_later` hours had passed."""
    with app.app_context():
        return confirm_overdue(utcnow() + timedelta(hours=hours_later))


# ---- confirm ----


def test_completed_work_waits_for_the_resident(world):
    order_id = world.completed()
    order = world.order(order_id)
    assert (order.status, order.acceptance, order.confirmed_at) == ("completed", "pending", None)


def test_the_resident_confirms_with_a_signature(world):
    order_id = world.completed()
    signature = world.uploaded()
    response = world.act(order_id, "confirm", world.auth, signature_url=signature)
    assert response.status_code == 200, response.json
    assert (response.json["acceptance"], response.json["signature_url"]) == (
        "confirmed",
        signature,
    )
    assert response.json["confirmed_at"] is not None


def test_a_signature_must_be_an_upload(world):
    order_id = world.completed()
    response = world.act(order_id, "confirm", world.auth, signature_url="https://x.cn/sign.png")
    assert response.status_code == 422
    assert (response.json["error"]["code"], list(response.json["error"]["fields"])) == (
        "photo_not_uploaded",
        ["signature_url"],
    )
    assert world.order(order_id).acceptance == "pending"


def test_confirming_twice_is_a_conflict_and_counts_once(world, app):
    order_id = world.completed()
    assert world.act(order_id, "confirm", world.auth).status_code == 200
    again = world.act(order_id, "confirm", world.auth)
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_confirmed")
    assert events_of(app, order_id, "confirm") == 1
    assert points_of(app, world.engineer) == app.config["POINTS_ORDER_COMPLETED"]


def test_another_resident_cannot_confirm(world, app):
    order_id = world.completed()
    neighbour = f.resident(app, communities=(world.community,))
    response = world.act(order_id, "confirm", f.resident_auth(app, neighbour))
    assert (response.status_code, response.json["error"]["code"]) == (404, "order_not_found")
    assert world.order(order_id).acceptance == "pending"


def test_work_not_yet_completed_cannot_be_confirmed(world):
    order_id = world.in_service()
    response = world.act(order_id, "confirm", world.auth)
    assert (response.status_code, response.json["error"]["code"]) == (409, "illegal_transition")


# ---- dispute ----


def test_a_dispute_needs_a_reason(world):
    order_id = world.completed()
    response = world.act(order_id, "dispute", world.auth, reason="  ")
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"reason": ["请填写异议原因"]}
    assert world.order(order_id).acceptance == "pending"


def test_a_dispute_keeps_reason_and_photos_and_opens_a_follow_up(world, app):
    order_id = world.completed()
    photo = world.uploaded()
    response = world.act(order_id, "dispute", world.auth, reason="还在漏水", photos=[photo])
    assert response.status_code == 200, response.json
    assert (response.json["acceptance"], response.json["dispute_reason"]) == (
        "disputed",
        "还在漏水",
    )
    assert response.json["dispute_photos"] == [photo]
    with app.app_context():
        follow_up = db.session.scalar(sa.select(FollowUp).where(FollowUp.order_id == order_id))
        assert (follow_up.kind, follow_up.summary, follow_up.status) == (
            "dispute",
            "还在漏水",
            "open",
        )


def test_dispute_photos_must_be_uploads(world):
    order_id = world.completed()
    response = world.act(
        order_id, "dispute", world.auth, reason="还在漏水", photos=["https://x.cn/leak.jpg"]
    )
    assert (response.status_code, response.json["error"]["code"]) == (422, "photo_not_uploaded")
    assert world.order(order_id).acceptance == "pending"


def test_disputes_are_counted_in_the_kpis_as_the_rows_they_count(world, app):
    disputed = [world.completed() for _ in range(2)]
    for order_id in disputed:
        assert world.act(order_id, "dispute", world.auth, reason="没修好").status_code == 200
    assert world.act(world.completed(), "confirm", world.auth).status_code == 200
    with app.app_context():
        counted = db.session.scalar(
            sa.select(sa.func.sum(CommunityMonthKpi.disputes)).where(
                CommunityMonthKpi.community_id == world.community
            )
        )
        rows = db.session.scalar(
            sa.select(sa.func.count()).select_from(FollowUp).where(FollowUp.kind == "dispute")
        )
        incremental = db.session.scalars(sa.select(CommunityMonthKpi.disputes)).all()
        rollup.rebuild()
        assert db.session.scalars(sa.select(CommunityMonthKpi.disputes)).all() == incremental
    assert counted == rows == 2


def test_the_kpi_list_shows_disputes(world, app, client):
    order_id = world.completed()
    world.act(order_id, "dispute", world.auth, reason="没修好")
    with app.app_context():
        month = month_of(utcnow())  # the month still running
    rows = client.get(
        "/api/v1/kpis/communities", headers=manager(app), query_string={"month": month}
    ).json["items"]
    (row,) = [r for r in rows if r["community_id"] == world.community]
    assert row["disputes"] == 1


def test_a_disputed_order_is_confirmed_once_settled_and_disputed_only_once(world, app):
    order_id = world.completed()
    world.act(order_id, "dispute", world.auth, reason="没修好")
    again = world.act(order_id, "dispute", world.auth, reason="还是没修好")
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_disputed")
    assert points_of(app, world.engineer) == 0
    assert world.act(order_id, "confirm", world.auth).status_code == 200
    assert points_of(app, world.engineer) == app.config["POINTS_ORDER_COMPLETED"]


# ---- auto-confirm ----


def test_work_nobody_answers_for_is_confirmed_after_the_configured_hours(world, app):
    order_id = world.completed()
    hours = app.config["ACCEPTANCE_AUTO_HOURS"]
    assert auto_confirm(app, hours - 1) == 0
    assert world.order(order_id).acceptance == "pending"
    assert auto_confirm(app, hours + 1) == 1
    order = world.order(order_id)
    assert (order.acceptance, order.confirmed_at is not None) == ("auto_confirmed", True)
    assert points_of(app, world.engineer) == app.config["POINTS_ORDER_COMPLETED"]


def test_auto_confirmation_runs_once(world, app):
    order_id = world.completed()
    hours = app.config["ACCEPTANCE_AUTO_HOURS"] + 1
    assert (auto_confirm(app, hours), auto_confirm(app, hours)) == (1, 0)
    assert events_of(app, order_id, "auto_confirm") == 1
    assert points_of(app, world.engineer) == app.config["POINTS_ORDER_COMPLETED"]


def test_disputed_and_confirmed_work_is_never_auto_confirmed(world, app):
    disputed, confirmed = world.completed(), world.completed()
    world.act(disputed, "dispute", world.auth, reason="没修好")
    world.act(confirmed, "confirm", world.auth)
    assert auto_confirm(app, app.config["ACCEPTANCE_AUTO_HOURS"] + 1) == 0
    assert (world.order(disputed).acceptance, world.order(confirmed).acceptance) == (
        "disputed",
        "confirmed",
    )


# ---- what accepted work earns, at acceptance and not at completion ----


def test_the_engineer_s_points_come_at_acceptance_not_completion(world, app):
    order_id = world.completed()
    assert points_of(app, world.engineer) == 0
    world.act(order_id, "confirm", world.auth)
    assert points_of(app, world.engineer) == app.config["POINTS_ORDER_COMPLETED"]


def test_the_butler_s_reward_comes_at_acceptance_not_completion(world, app):
    butler = f.engineer(app, communities=(world.community,))
    with app.app_context():
        db.session.add(
            ButlerBinding(
                resident_id=world.resident,
                engineer_id=butler,
                created_at=utcnow() - timedelta(days=1),
            )
        )
        db.session.commit()
    order_id = world.completed(preferred_engineer_id=world.engineer)
    assert points_of(app, butler) == 0
    world.act(order_id, "confirm", world.auth)
    assert points_of(app, butler) == app.config["POINTS_BUTLER_ORDER"]


def test_the_coupon_is_spent_at_acceptance_not_completion(world, app, client):
    campaign = create_campaign(client, manager(app), per_resident_limit=5)["id"]
    coupon_id = claim(client, world.auth, campaign).json["id"]
    order_id = world.completed(coupon_id=coupon_id)
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).status == "reserved"
    world.act(order_id, "confirm", world.auth)
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).status == "spent"


def completed_orders_counted(app, world) -> int:
    """The engineer's completed orders in the community, recomputed from the facts now."""
    with app.app_context():
        standing.recompute_pair(world.engineer, world.community)
        db.session.commit()
        return db.session.scalar(
            sa.select(EngineerCommunity.completed_orders).where(
                EngineerCommunity.engineer_id == world.engineer,
                EngineerCommunity.community_id == world.community,
            )
        )


def test_standing_counts_an_order_at_acceptance_not_completion(world, app, run_jobs):
    order_id = world.completed()
    assert completed_orders_counted(app, world) == 0
    world.act(order_id, "confirm", world.auth)
    run_jobs()
    assert completed_orders_counted(app, world) == 1


# ---- reviews ----


def test_reviewing_pending_work_accepts_it(world, app, client):
    order_id = world.completed()
    review = client.post(
        f"/api/v1/orders/{order_id}/review", headers=world.auth, json={"rating": 5}
    )
    assert review.status_code == 201, review.json
    assert world.order(order_id).acceptance == "confirmed"
    assert events_of(app, order_id, "confirm") == 1
    assert points_of(app, world.engineer) == app.config["POINTS_ORDER_COMPLETED"]


def test_reviewing_disputed_work_leaves_the_dispute(world, client):
    order_id = world.completed()
    world.act(order_id, "dispute", world.auth, reason="没修好")
    review = client.post(
        f"/api/v1/orders/{order_id}/review", headers=world.auth, json={"rating": 1}
    )
    assert review.status_code == 201, review.json
    assert world.order(order_id).acceptance == "disputed"

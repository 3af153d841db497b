"""Offers, declines, expiries and the worker: an order goes to one engineer, exactly once."""

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dispatch import assignment
from models import DispatchOffer, ServiceOrder
from service_hub.plumbing.extensions import db
from tests import factories as f


@pytest.fixture
def setting(app):
    """A community with a bound resident and a service; engineers are added per test."""
    community_id = f.community(app)
    return {
        "community": community_id,
        "resident": f.resident(app, communities=(community_id,)),
        "service": f.service_type(app, skill="purifier"),
    }


def create_order(app, client, setting, **extra) -> int:
    response = client.post(
        "/api/v1/orders",
        headers=f.resident_auth(app, setting["resident"]),
        json={"community_id": setting["community"], "service_type_id": setting["service"], **extra},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def order_row(app, order_id: int) -> ServiceOrder:
    with app.app_context():
        order = db.session.get(ServiceOrder, order_id)
        db.session.expunge(order)
        return order


def offers(app, order_id: int) -> list[tuple[int, str]]:
    with app.app_context():
        return db.session.execute(
            sa.select(DispatchOffer.engineer_id, DispatchOffer.status)
            .where(DispatchOffer.order_id == order_id)
            .order_by(DispatchOffer.id)
        ).all()


def act(app, client, engineer_id: int, order_id: int, action: str):
    return client.post(
        f"/api/v1/orders/{order_id}/{action}", headers=f.engineer_auth(app, engineer_id), json={}
    )


def test_a_decline_passes_the_order_to_the_next_engineer(app, client, run_jobs, setting):
    first = f.engineer(app, communities=(setting["community"],), standing=0.9)
    second = f.engineer(app, communities=(setting["community"],), standing=0.5)
    order_id = create_order(app, client, setting)
    run_jobs()
    assert act(app, client, first, order_id, "decline").status_code == 200
    run_jobs()
    assert offers(app, order_id) == [(first, "declined"), (second, "pending")]
    assert order_row(app, order_id).status == "offered"


def test_when_everyone_declined_the_order_is_unassigned_with_a_reason(
    app, client, run_jobs, setting
):
    only = f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting)
    run_jobs()
    act(app, client, only, order_id, "decline")
    run_jobs()
    order = order_row(app, order_id)
    assert order.status == "unassigned"
    assert "already_offered" in order.unassigned_reason
    assert offers(app, order_id) == [(only, "declined")]


def test_an_order_with_no_engineer_serving_the_community_is_unassigned(
    app, client, run_jobs, setting
):
    f.engineer(app, communities=(f.community(app),))
    order_id = create_order(app, client, setting)
    run_jobs()
    order = order_row(app, order_id)
    assert order.status == "unassigned"
    assert order.unassigned_reason == "no eligible engineer: no_engineer_serves_community"


def test_an_engineer_without_the_skill_is_never_offered_the_order(app, client, run_jobs, setting):
    f.engineer(app, communities=(setting["community"],), skills={"aircon": 5}, standing=0.99)
    able = f.engineer(app, communities=(setting["community"],), standing=0.1)
    order_id = create_order(app, client, setting)
    run_jobs()
    assert offers(app, order_id) == [(able, "pending")]


def test_an_ineligible_preferred_engineer_is_skipped_with_the_reason(
    app, client, run_jobs, setting
):
    preferred = f.engineer(app, communities=(setting["community"],), on_duty=False)
    other = f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting, preferred_engineer_id=preferred)
    run_jobs()
    order = order_row(app, order_id)
    assert order.dispatch_breakdown["engineer_id"] == other
    assert order.dispatch_breakdown["preferred_skipped"] == "off_duty"


def test_an_eligible_preferred_engineer_gets_the_first_offer(app, client, run_jobs, setting):
    f.engineer(app, communities=(setting["community"],), standing=0.95)
    preferred = f.engineer(app, communities=(setting["community"],), standing=0.2)
    order_id = create_order(app, client, setting, preferred_engineer_id=preferred)
    run_jobs()
    assert offers(app, order_id) == [(preferred, "pending")]


def test_a_dispatch_delivered_twice_makes_one_offer(app, client, run_jobs, setting):
    f.engineer(app, communities=(setting["community"],))
    f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting)
    run_jobs()
    with app.app_context():
        assert assignment.dispatch(order_id) is None
    assert len(offers(app, order_id)) == 1


def test_an_unanswered_offer_expires_and_passes_on(app, client, run_jobs, setting, monkeypatch):
    monkeypatch.setitem(app.config, "OFFER_TIMEOUT_SECONDS", 0)
    first = f.engineer(app, communities=(setting["community"],), standing=0.9)
    second = f.engineer(app, communities=(setting["community"],), standing=0.5)
    order_id = create_order(app, client, setting)
    run_jobs()
    monkeypatch.setitem(app.config, "OFFER_TIMEOUT_SECONDS", 600)
    run_jobs(include_scheduled=True)
    assert offers(app, order_id)[:2] == [(first, "expired"), (second, "pending")]


def test_an_accept_after_expiry_is_refused(app, client, run_jobs, setting, monkeypatch):
    monkeypatch.setitem(app.config, "OFFER_TIMEOUT_SECONDS", 0)
    first = f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting)
    run_jobs()
    response = act(app, client, first, order_id, "accept")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "offer_expired"


def test_an_engineer_cannot_accept_an_order_offered_to_someone_else(app, client, run_jobs, setting):
    f.engineer(app, communities=(setting["community"],), standing=0.9)
    other = f.engineer(app, communities=(setting["community"],), standing=0.1)
    order_id = create_order(app, client, setting)
    run_jobs()
    response = act(app, client, other, order_id, "accept")
    assert response.status_code == 404


def run_worker_command(app) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "testing",
        "REDIS_URL": app.config["REDIS_URL"] or "",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_worker_command_runs_queued_jobs_in_an_app_context(app, client, setting):
    if app.config["BACKEND"] == "embedded":
        result = run_worker_command(app)
        assert result.returncode != 0
        assert "REDIS_URL is not set" in result.stderr
        return
    engineer = f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting)
    result = run_worker_command(app)
    assert result.returncode == 0, result.stderr
    assert offers(app, order_id) == [(engineer, "pending")]


def test_a_pending_offer_counts_towards_the_engineers_load(app, client, run_jobs, setting):
    busy = f.engineer(app, communities=(setting["community"],), standing=0.9, max_open_orders=1)
    spare = f.engineer(app, communities=(setting["community"],), standing=0.1)
    first = create_order(app, client, setting)
    second = create_order(app, client, setting)
    run_jobs()
    assert offers(app, first) == [(busy, "pending")]
    assert offers(app, second) == [(spare, "pending")]


def test_an_engineer_with_a_limit_of_zero_gets_no_offers(app, client, run_jobs, setting):
    f.engineer(app, communities=(setting["community"],), max_open_orders=0)
    order_id = create_order(app, client, setting)
    run_jobs()
    assert order_row(app, order_id).unassigned_reason == "no eligible engineer: at_max_load"


def manager_act(app, client, order_id, action, **body):
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    return client.post(f"/api/v1/orders/{order_id}/{action}", headers=manager, json=body)


def test_a_manager_assigns_an_unassigned_order_by_hand(app, client, run_jobs, setting):
    order_id = create_order(app, client, setting)
    run_jobs()
    engineer = f.engineer(app, communities=(setting["community"],), skills={"aircon": 1})
    response = manager_act(app, client, order_id, "assign", engineer_id=engineer, reason="客户指定")
    assert response.status_code == 200
    order = order_row(app, order_id)
    assert (order.status, order.engineer_id) == ("accepted", engineer)


def test_a_manager_cannot_assign_an_engineer_from_elsewhere(app, client, run_jobs, setting):
    order_id = create_order(app, client, setting)
    run_jobs()
    stranger = f.engineer(app, communities=(f.community(app),))
    response = manager_act(app, client, order_id, "assign", engineer_id=stranger)
    assert response.status_code == 422


def test_a_redispatch_reaches_an_engineer_added_since(app, client, run_jobs, setting):
    declined = f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting)
    run_jobs()
    act(app, client, declined, order_id, "decline")
    run_jobs()
    newcomer = f.engineer(app, communities=(setting["community"],))
    assert manager_act(app, client, order_id, "redispatch").status_code == 200
    run_jobs()
    assert offers(app, order_id) == [(declined, "declined"), (newcomer, "pending")]


def test_a_resident_cannot_assign_orders(app, client, run_jobs, setting):
    order_id = create_order(app, client, setting)
    response = client.post(
        f"/api/v1/orders/{order_id}/assign",
        headers=f.resident_auth(app, setting["resident"]),
        json={"engineer_id": 1},
    )
    assert response.status_code == 403


def test_an_engineer_outside_working_hours_is_skipped(app, client, run_jobs, setting):
    f.engineer(
        app,
        communities=(setting["community"],),
        standing=0.9,
        working_hours={"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
    )
    weekend = f.engineer(app, communities=(setting["community"],), standing=0.1)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 + 7)
    order_id = create_order(
        app,
        client,
        setting,
        window_start=f"{saturday.isoformat()}T10:00:00+08:00",
        window_end=f"{saturday.isoformat()}T12:00:00+08:00",
    )
    run_jobs()
    assert offers(app, order_id) == [(weekend, "pending")]


def test_the_residents_butler_gets_the_first_offer(app, client, run_jobs, setting):
    from models import ButlerBinding

    f.engineer(app, communities=(setting["community"],), standing=0.95)
    butler = f.engineer(app, communities=(setting["community"],), standing=0.2)
    with app.app_context():
        db.session.add(ButlerBinding(resident_id=setting["resident"], engineer_id=butler))
        db.session.commit()
    order_id = create_order(app, client, setting)
    run_jobs()
    assert offers(app, order_id) == [(butler, "pending")]
    assert order_row(app, order_id).dispatch_breakdown["components"]["butler"] == 1.0


def test_an_accepted_order_credits_the_engineer_points(app, client, run_jobs, setting):
    engineer = f.engineer(app, communities=(setting["community"],))
    order_id = create_order(app, client, setting)
    run_jobs()
    for action in ("accept", "en-route", "start", "complete"):
        act(app, client, engineer, order_id, action)
    resident = f.resident_auth(app, setting["resident"])  # the work counts once accepted
    confirm = client.post(f"/api/v1/orders/{order_id}/confirm", headers=resident, json={})
    assert confirm.status_code == 200, confirm.json
    points = client.get("/api/v1/engineers/me/points", headers=f.engineer_auth(app, engineer))
    assert points.json["balance"] == app.config["POINTS_ORDER_COMPLETED"]

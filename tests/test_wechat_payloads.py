"""Every kind of WeChat message, built by the code that really sends it and delivered end to
end, is accepted by our fake WeChat, which refuses any field value WeChat does not document."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Delivery
from models.base import utcnow
from notifications.reminders import remind_upcoming_activities
from notifications.templates import KINDS
from service_hub.coupons.notices import remind_expiring_coupons
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_coupons_support import claim, create_campaign


@pytest.fixture(autouse=True)
def _every_message_may_go(app, monkeypatch):
    """No quiet hours and no caps: only the fields decide whether a message goes."""
    monkeypatch.setitem(app.config, "QUIET_HOURS", "00:00-00:00")
    monkeypatch.setitem(app.config, "MARKETING_CAP_PER_DAY", 100)
    monkeypatch.setitem(app.config, "MARKETING_CAP_PER_WEEK", 100)


def _subscribed_resident(app, communities=()) -> int:
    """A resident who accepted the subscribe prompt of every kind once."""
    resident_id = f.resident(app, communities=communities)
    for kind in KINDS:
        f.subscription_credits(app, [resident_id], kind)
    return resident_id


def _manager(app) -> dict:
    return f.staff_auth(app, f.staff(app, "manager"), "manager")


def _visit_announced(app, client, run_jobs) -> int:
    community_id = f.community(app)
    resident_id = _subscribed_resident(app, (community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    start = utcnow() + timedelta(days=1)
    end = start + timedelta(hours=1)
    response = client.post(
        "/api/v1/engineers/me/visits",
        headers=f.engineer_auth(app, engineer_id),
        json={
            "community_id": community_id,
            "starts_at": start.isoformat(),
            "ends_at": end.isoformat(),
            "slots": [{"starts_at": start.isoformat(), "ends_at": end.isoformat()}],
        },
    )
    assert response.status_code == 201, response.json
    run_jobs()
    return resident_id


def _order_served(app, client, run_jobs) -> int:
    """Accepted, en route, completed: the three messages of one order."""
    community_id = f.community(app)
    resident_id = _subscribed_resident(app, (community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    f.completed_order(app, client, run_jobs, community_id, resident_id, engineer_id)
    return resident_id


def _window_proposed(app, client, run_jobs) -> int:
    """The engineer of an accepted order proposes another window."""
    community_id = f.community(app)
    resident_id = _subscribed_resident(app, (community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    created = client.post(
        "/api/v1/orders",
        headers=f.resident_auth(app, resident_id),
        json={
            "community_id": community_id,
            "service_type_id": f.service_type(app),
            "preferred_engineer_id": engineer_id,
        },
    )
    assert created.status_code == 201, ("create the order", created.json)
    run_jobs()
    engineer = f.engineer_auth(app, engineer_id)
    order = f"/api/v1/orders/{created.json['id']}"
    accepted = client.post(f"{order}/accept", headers=engineer, json={})
    assert accepted.status_code == 200, ("accept", accepted.json)
    start = utcnow() + timedelta(days=1)
    window = {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }
    proposed = client.post(f"{order}/propose-window", headers=engineer, json=window)
    assert proposed.status_code == 200, ("propose a window", proposed.json)
    run_jobs()
    return resident_id


def _activity_reminder(app, client, run_jobs) -> int:
    community_id = f.community(app)
    resident_id = _subscribed_resident(app, (community_id,))
    start = utcnow() + timedelta(hours=2)
    created = client.post(
        f"/api/v1/communities/{community_id}/activities",
        headers=_manager(app),
        json={
            "title": "净水知识讲座",
            "place": "小区会所",
            "capacity": 10,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        },
    )
    assert created.status_code == 201, created.json
    signup = client.post(
        f"/api/v1/activities/{created.json['id']}/signups",
        headers=f.resident_auth(app, resident_id),
    )
    assert signup.status_code in (200, 201), signup.json
    with app.app_context():
        assert remind_upcoming_activities() == 1
    run_jobs()
    return resident_id


def _coupon_granted(app, client, run_jobs) -> int:
    boss = _manager(app)
    campaign_id = create_campaign(client, boss, channel="reward")["id"]
    rule = {"event": "first_community_bound", "campaign_id": campaign_id}
    created = client.post("/api/v1/coupon-reward-rules", headers=boss, json=rule)
    assert created.status_code == 201, ("create the reward rule", created.json)
    resident_id = _subscribed_resident(app)
    bound = client.put(
        f"/api/v1/me/communities/{f.community(app)}", headers=f.resident_auth(app, resident_id)
    )
    assert bound.status_code == 200, bound.json
    run_jobs()
    return resident_id


def _coupon_expiring(app, client, run_jobs) -> int:
    community_id = f.community(app)
    campaign_id = create_campaign(client, _manager(app), valid_days=1)["id"]
    resident_id = _subscribed_resident(app, (community_id,))
    assert claim(client, f.resident_auth(app, resident_id), campaign_id).status_code == 201
    with app.app_context():
        assert remind_expiring_coupons() == 1
    run_jobs()
    return resident_id


SCENARIOS = {
    "visit_announced": _visit_announced,
    "order_accepted": _order_served,
    "engineer_en_route": _order_served,
    "order_completed": _order_served,
    "window_proposed": _window_proposed,
    "activity_reminder": _activity_reminder,
    "coupon_granted": _coupon_granted,
    "coupon_expiring": _coupon_expiring,
}


def test_every_kind_of_message_has_an_end_to_end_scenario():
    assert set(SCENARIOS) == set(KINDS)


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_the_message_as_sent_is_accepted_by_the_strict_fake(
    app, client, run_jobs, fake_wechat, kind
):
    resident_id = SCENARIOS[kind](app, client, run_jobs)
    with app.app_context():
        outcome = db.session.execute(
            sa.select(Delivery.status, Delivery.errcode).where(
                Delivery.resident_id == resident_id, Delivery.kind == kind
            )
        ).one()
    assert tuple(outcome) == ("sent", None)
    template_id = app.config["WECHAT_TEMPLATES"][kind]
    assert [m["template_id"] for m in fake_wechat.state.sent_messages].count(template_id) == 1

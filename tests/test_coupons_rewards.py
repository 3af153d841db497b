"""Participation rewards: rules as data; reviews with photos, attendance and a first community
each grant a coupon once; expiry reminders go out once."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from models import Coupon, InboxNotification, OutboxMessage
from models.base import utcnow
from service_hub.coupons.notices import remind_expiring_coupons
from service_hub.coupons.rewards import grant_participation_rewards
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_coupons_support import (
    claim,
    coupons_of,
    create_campaign,
    issued,
    manager,
    uploaded_photo,
)

RULES = "/api/v1/coupon-reward-rules"


@pytest.fixture
def boss(app):
    return manager(app)


def reward(client, boss, event: str, **campaign) -> int:
    """A live reward campaign granted by `event`; returns the campaign id."""
    campaign_id = create_campaign(client, boss, channel="reward", **campaign)["id"]
    response = client.post(RULES, headers=boss, json={"event": event, "campaign_id": campaign_id})
    assert response.status_code == 201, response.json
    return campaign_id


@pytest.fixture
def served(app, client, run_jobs):
    """A resident whose order was completed, ready to be reviewed."""
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    auth = f.resident_auth(app, resident_id)
    order_id = f.completed_order(app, client, run_jobs, community_id, resident_id, engineer_id)
    return SimpleNamespace(community=community_id, resident=resident_id, auth=auth, order=order_id)


def review(client, served, photos):
    return client.post(
        f"/api/v1/orders/{served.order}/review",
        headers=served.auth,
        json={"rating": 5, "text": "很好", "photos": photos},
    )


def test_a_review_with_photos_earns_the_reward_and_a_notice(app, client, boss, served, run_jobs):
    campaign_id = reward(client, boss, "review_with_photos")
    assert review(client, served, [uploaded_photo(app)]).status_code == 201
    (coupon,) = coupons_of(app, campaign_id)
    assert (coupon.resident_id, coupon.source) == (served.resident, "reward")
    run_jobs()
    with app.app_context():
        kinds = db.session.scalars(
            sa.select(InboxNotification.kind).where(
                InboxNotification.resident_id == served.resident
            )
        ).all()
    assert "coupon_granted" in kinds


def test_a_review_without_photos_earns_nothing(app, client, boss, served):
    campaign_id = reward(client, boss, "review_with_photos")
    assert review(client, served, []).status_code == 201
    assert coupons_of(app, campaign_id) == []


def test_the_same_event_never_grants_twice(app, client, boss):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    campaign_id = reward(client, boss, "review_with_photos", per_resident_limit=5)
    with app.app_context():
        for _ in range(3):
            grant_participation_rewards(
                "review_with_photos", resident_id, community_id, "review:77"
            )
            db.session.commit()
    assert issued(app, campaign_id) == (1, 1)


def test_a_reward_campaign_cannot_be_claimed_or_listed(app, client, boss):
    community_id = f.community(app)
    campaign_id = reward(client, boss, "first_community_bound")
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    assert claim(client, auth, campaign_id).status_code == 404
    listing = client.get(f"/api/v1/communities/{community_id}/coupons", headers=auth).json
    assert listing["total"] == 0


def test_binding_a_first_community_earns_the_reward_once(app, client, boss):
    first, second = f.community(app), f.community(app)
    campaign_id = reward(client, boss, "first_community_bound", per_resident_limit=3)
    auth = f.resident_auth(app, f.resident(app))
    assert client.put(f"/api/v1/me/communities/{first}", headers=auth).status_code == 200
    client.put(f"/api/v1/me/communities/{second}", headers=auth)
    client.delete(f"/api/v1/me/communities/{first}", headers=auth)
    client.delete(f"/api/v1/me/communities/{second}", headers=auth)
    client.put(f"/api/v1/me/communities/{first}", headers=auth)  # first again, not new
    (coupon,) = coupons_of(app, campaign_id)
    assert coupon.community_id == first


def test_a_reward_follows_the_campaigns_targeting(app, client, boss):
    tier_a, tier_b = f.community(app, tier="A"), f.community(app, tier="B")
    campaign_id = reward(client, boss, "first_community_bound", targeting={"tiers": ["A"]})
    for community_id in (tier_a, tier_b):
        auth = f.resident_auth(app, f.resident(app))
        client.put(f"/api/v1/me/communities/{community_id}", headers=auth)
    assert [c.community_id for c in coupons_of(app, campaign_id)] == [tier_a]


def test_a_reward_out_of_stock_still_lets_the_event_happen(app, client, boss):
    campaign_id = reward(client, boss, "first_community_bound", total_stock=1)
    statuses = []
    for _ in range(2):
        auth = f.resident_auth(app, f.resident(app))
        statuses.append(
            client.put(f"/api/v1/me/communities/{f.community(app)}", headers=auth).status_code
        )
    assert statuses == [200, 200]
    assert issued(app, campaign_id) == (1, 1)


def test_a_deactivated_rule_grants_nothing(app, client, boss):
    campaign_id = reward(client, boss, "first_community_bound")
    (rule,) = client.get(RULES, headers=boss).json["items"]
    assert client.delete(f"{RULES}/{rule['id']}", headers=boss).status_code == 204
    auth = f.resident_auth(app, f.resident(app))
    client.put(f"/api/v1/me/communities/{f.community(app)}", headers=auth)
    assert coupons_of(app, campaign_id) == []
    again = client.post(
        RULES, headers=boss, json={"event": "first_community_bound", "campaign_id": campaign_id}
    )
    assert (again.status_code, again.json["active"]) == (200, True)


def test_only_reward_campaigns_can_back_a_rule(client, boss):
    claimable = create_campaign(client, boss)["id"]
    response = client.post(
        RULES, headers=boss, json={"event": "review_with_photos", "campaign_id": claimable}
    )
    assert (response.status_code, response.json["error"]["code"]) == (422, "not_a_reward_campaign")


def test_rules_are_for_managers_of_the_campaigns_region(app, client, boss):
    campaign_id = create_campaign(client, boss, channel="reward")["id"]
    body = {"event": "review_with_photos", "campaign_id": campaign_id}
    assert client.post(RULES, json=body).status_code == 401
    resident = f.resident_auth(app, f.resident(app))
    assert client.post(RULES, headers=resident, json=body).status_code == 403
    regional = manager(app, region="北京市")
    assert client.post(RULES, headers=regional, json=body).status_code == 403


def _activity(app, client, boss, community_id: int, starts_in: timedelta) -> int:
    start = utcnow() + starts_in
    response = client.post(
        f"/api/v1/communities/{community_id}/activities",
        headers=boss,
        json={
            "title": "滤芯更换课堂",
            "place": "会所",
            "capacity": 10,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_attending_a_signed_up_activity_earns_the_reward_once(app, client, boss):
    community_id = f.community(app)
    campaign_id = reward(client, boss, "activity_attended", per_resident_limit=5)
    activity_id = _activity(app, client, boss, community_id, timedelta(minutes=30))
    came, signed_only = (f.resident(app, communities=(community_id,)) for _ in range(2))
    for resident_id in (came, signed_only):
        client.post(
            f"/api/v1/activities/{activity_id}/signups", headers=f.resident_auth(app, resident_id)
        )
    stranger = f.resident(app, communities=(community_id,))
    url = f"/api/v1/activities/{activity_id}/attendance"
    first = client.post(url, headers=boss, json={"resident_ids": [came, stranger]})
    assert first.json == {
        "marked": [came],
        "already": [],
        "not_signed_up": [stranger],
        "coupons_granted": 1,
    }
    again = client.post(url, headers=boss, json={"resident_ids": [came]})
    assert (again.json["already"], again.json["coupons_granted"]) == ([came], 0)
    assert [c.resident_id for c in coupons_of(app, campaign_id)] == [came]
    signup = client.post(
        f"/api/v1/activities/{activity_id}/signups", headers=f.resident_auth(app, came)
    )
    assert signup.status_code == 200  # attending keeps the place; no second place taken


def test_attendance_waits_for_the_activity_and_its_manager(app, client, boss):
    community_id = f.community(app)
    activity_id = _activity(app, client, boss, community_id, timedelta(days=2))
    url = f"/api/v1/activities/{activity_id}/attendance"
    early = client.post(url, headers=boss, json={"resident_ids": [1]})
    assert (early.status_code, early.json["error"]["code"]) == (409, "attendance_not_open")
    regional = manager(app, region="北京市")
    assert client.post(url, headers=regional, json={"resident_ids": [1]}).status_code == 403
    resident = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    assert client.post(url, headers=resident, json={"resident_ids": [1]}).status_code == 403


def test_residents_hear_once_that_a_coupon_expires_soon(app, client, boss):
    community_id = f.community(app)
    soon = create_campaign(client, boss, valid_days=1)["id"]
    later = create_campaign(client, boss, valid_days=30)["id"]
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    for campaign_id in (soon, later):
        claim(client, auth, campaign_id)
    with app.app_context():
        assert remind_expiring_coupons() == 1
        assert remind_expiring_coupons() == 0
        keys = db.session.scalars(
            sa.select(OutboxMessage.event_key).where(OutboxMessage.kind == "resident_notify")
        ).all()
        (coupon_id,) = db.session.scalars(
            sa.select(Coupon.id).where(Coupon.campaign_id == soon)
        ).all()
    assert keys == [f"coupon:{coupon_id}:expiring"]

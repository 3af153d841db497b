"""Claiming coupons: what each community sees, who may claim, and atomic claims."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Coupon
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_coupons_support import (
    age_resident,
    claim,
    create_campaign,
    issued,
    listed,
    manager,
    many_residents,
    orders_last_month,
)


@pytest.fixture
def boss(app):
    return manager(app)


def resident_of(app, community_id: int) -> dict:
    return f.resident_auth(app, f.resident(app, communities=(community_id,)))


def test_two_communities_see_different_coupons_when_the_rules_say_so(app, client, boss):
    tier_a, tier_c = f.community(app, tier="A"), f.community(app, tier="C")
    premium = create_campaign(client, boss, targeting={"tiers": ["A"]})["id"]
    winback = create_campaign(client, boss, targeting={"tiers": ["C"]})["id"]
    everyone = create_campaign(client, boss)["id"]
    assert listed(client, resident_of(app, tier_a), tier_a) == [premium, everyone]
    assert listed(client, resident_of(app, tier_c), tier_c) == [winback, everyone]


def test_a_quiet_community_gets_the_coupon_meant_to_stir_business(app, client, boss):
    busy, quiet = f.community(app), f.community(app)
    orders_last_month(app, busy, 30)  # 30 per 1,000 households
    orders_last_month(app, quiet, 2)
    stir = create_campaign(client, boss, targeting={"orders_per_1000": {"max": 5}})["id"]
    assert listed(client, resident_of(app, quiet), quiet) == [stir]
    assert listed(client, resident_of(app, busy), busy) == []


def test_a_district_and_a_radius_narrow_together(app, client, boss):
    here = f.community(app, district="徐汇区", lat=31.19, lng=121.44)
    elsewhere = f.community(app, district="静安区", lat=31.19, lng=121.44)
    far = f.community(app, district="徐汇区", lat=31.40, lng=121.44)
    rules = {
        "regions": [{"city": "上海市", "district": "徐汇区"}],
        "radius": {"lat": 31.19, "lng": 121.44, "radius_km": 5},
    }
    campaign_id = create_campaign(client, boss, targeting=rules)["id"]
    assert listed(client, resident_of(app, here), here) == [campaign_id]
    assert listed(client, resident_of(app, elsewhere), elsewhere) == []
    assert listed(client, resident_of(app, far), far) == []


def test_the_community_home_shows_its_claimable_coupons(app, client, boss):
    tier_a, tier_b = f.community(app, tier="A"), f.community(app, tier="B")
    campaign_id = create_campaign(client, boss, targeting={"tiers": ["A"]})["id"]
    home = client.get(f"/api/v1/communities/{tier_a}").json
    assert [c["campaign_id"] for c in home["claimable_coupons"]] == [campaign_id]
    assert client.get(f"/api/v1/communities/{tier_b}").json["claimable_coupons"] == []


def test_drafts_paused_and_ended_campaigns_are_not_offered(app, client, boss):
    community_id = f.community(app)
    auth = resident_of(app, community_id)
    draft = create_campaign(client, boss, activate=False)["id"]
    paused = create_campaign(client, boss)["id"]
    client.post(f"/api/v1/coupon-campaigns/{paused}/pause", headers=boss)
    assert listed(client, auth, community_id) == []
    for campaign_id in (draft, paused):
        response = claim(client, auth, campaign_id)
        assert (response.status_code, response.json["error"]["code"]) == (
            409,
            "campaign_not_open",
        )


def test_a_campaign_not_yet_open_for_claims_is_not_offered(app, client, boss):
    community_id = f.community(app)
    later = (utcnow() + timedelta(days=1)).isoformat()
    campaign_id = create_campaign(client, boss, starts_at=later)["id"]
    auth = resident_of(app, community_id)
    assert listed(client, auth, community_id) == []
    assert claim(client, auth, campaign_id).status_code == 409


def test_a_resident_claims_and_finds_the_coupon_in_my_coupons(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, valid_days=7)["id"]
    auth = resident_of(app, community_id)
    response = claim(client, auth, campaign_id)
    assert response.status_code == 201
    coupon = response.json
    assert (coupon["campaign_id"], coupon["state"], coupon["community_id"]) == (
        campaign_id,
        "available",
        community_id,
    )
    mine = client.get("/api/v1/me/coupons", headers=auth).json
    assert [c["id"] for c in mine["items"]] == [coupon["id"]]


def test_a_claimed_coupon_lasts_its_days_from_the_claim(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, valid_days=7)["id"]
    claim(client, resident_of(app, community_id), campaign_id)
    (coupon,) = [c for c in _coupons(app) if c.campaign_id == campaign_id]
    assert coupon.valid_until - coupon.valid_from == timedelta(days=7)


def test_the_limit_per_resident_holds(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=2)["id"]
    auth = resident_of(app, community_id)
    assert [claim(client, auth, campaign_id).status_code for _ in range(2)] == [201, 201]
    third = claim(client, auth, campaign_id)
    assert (third.status_code, third.json["error"]["code"]) == (409, "claim_limit_reached")
    assert listed(client, auth, community_id) == []


def test_a_repeat_with_the_same_idempotency_key_returns_the_first_coupon(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=3)["id"]
    auth = resident_of(app, community_id)
    first = claim(client, auth, campaign_id, key="tap-1")
    again = claim(client, auth, campaign_id, key="tap-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert issued(app, campaign_id) == (1, 1)
    assert claim(client, auth, campaign_id, key="tap-2").status_code == 201


def test_an_idempotency_key_reused_with_another_body_is_refused(app, client, boss):
    here, there = f.community(app), f.community(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=3)["id"]
    auth = f.resident_auth(app, f.resident(app, communities=(here, there)))
    first = claim(client, auth, campaign_id, key="tap-1", community_id=here)
    other = claim(client, auth, campaign_id, key="tap-1", community_id=there)
    assert (first.status_code, other.status_code) == (201, 422)
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert issued(app, campaign_id) == (1, 1)


def test_an_overlong_idempotency_key_is_refused(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss)["id"]
    response = claim(client, resident_of(app, community_id), campaign_id, key="k" * 65)
    assert response.status_code == 422


def test_the_last_coupon_goes_and_then_none(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, total_stock=1)["id"]
    assert claim(client, resident_of(app, community_id), campaign_id).status_code == 201
    late = claim(client, resident_of(app, community_id), campaign_id)
    assert (late.status_code, late.json["error"]["code"]) == (409, "out_of_stock")


def test_new_resident_coupons_are_for_new_residents(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, targeting={"new_residents_days": 30})["id"]
    old_id = f.resident(app, communities=(community_id,))
    age_resident(app, old_id, 90)
    old = f.resident_auth(app, old_id)
    assert listed(client, old, community_id) == []
    assert claim(client, old, campaign_id).json["error"]["code"] == "not_targeted"
    newcomer = resident_of(app, community_id)
    assert listed(client, newcomer, community_id) == [campaign_id]
    assert claim(client, newcomer, campaign_id).status_code == 201


def test_a_resident_of_a_community_not_targeted_cannot_claim(app, client, boss):
    f.community(app, tier="A")
    tier_b = f.community(app, tier="B")
    campaign_id = create_campaign(client, boss, targeting={"tiers": ["A"]})["id"]
    response = claim(client, resident_of(app, tier_b), campaign_id)
    assert (response.status_code, response.json["error"]["code"]) == (403, "not_targeted")


def test_claiming_through_a_community_i_am_not_bound_to_is_refused(app, client, boss):
    mine, other = f.community(app), f.community(app)
    campaign_id = create_campaign(client, boss)["id"]
    response = claim(client, resident_of(app, mine), campaign_id, community_id=other)
    assert (response.status_code, response.json["error"]["code"]) == (403, "not_bound")


def test_a_resident_without_a_community_is_told_to_bind_one(app, client, boss):
    campaign_id = create_campaign(client, boss)["id"]
    response = claim(client, f.resident_auth(app, f.resident(app)), campaign_id)
    assert (response.status_code, response.json["error"]["code"]) == (403, "not_bound")


def test_a_resident_cannot_list_coupons_of_a_community_not_theirs(app, client, boss):
    mine, other = f.community(app), f.community(app)
    response = client.get(f"/api/v1/communities/{other}/coupons", headers=resident_of(app, mine))
    assert (response.status_code, response.json["error"]["code"]) == (403, "not_bound")


def test_an_unknown_campaign_or_community_is_404(app, client, boss):
    auth = resident_of(app, f.community(app))
    assert claim(client, auth, 999999).status_code == 404
    assert client.get("/api/v1/communities/999999/coupons", headers=auth).status_code == 404


def test_strangers_hear_401(app, client):
    community_id = f.community(app)
    assert client.get(f"/api/v1/communities/{community_id}/coupons").status_code == 401
    assert client.post("/api/v1/coupons/1/claim", json={}).status_code == 401
    assert client.get("/api/v1/me/coupons").status_code == 401


def test_staff_cannot_claim_and_engineers_cannot_list(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss)["id"]
    assert claim(client, boss, campaign_id).status_code == 403
    engineer = f.engineer_auth(app, f.engineer(app, communities=(community_id,)))
    response = client.get(f"/api/v1/communities/{community_id}/coupons", headers=engineer)
    assert response.status_code == 403
    assert client.get("/api/v1/me/coupons", headers=boss).status_code == 403


def test_an_admin_holds_no_coupons(app, client, boss):
    campaign_id = create_campaign(client, boss)["id"]
    admin = f.staff_auth(app, f.staff(app, "admin"), "admin")
    assert claim(client, admin, campaign_id).status_code == 403
    assert client.get("/api/v1/me/coupons", headers=admin).status_code == 403


def test_a_claim_needs_no_body(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss)["id"]
    response = client.post(
        f"/api/v1/coupons/{campaign_id}/claim", headers=resident_of(app, community_id)
    )
    assert response.status_code == 201


def test_managers_see_a_communitys_offer_only_in_their_region(app, client, boss):
    community_id = f.community(app)  # 上海市
    campaign_id = create_campaign(client, boss)["id"]
    assert listed(client, manager(app, region="上海市"), community_id) == [campaign_id]
    response = client.get(
        f"/api/v1/communities/{community_id}/coupons", headers=manager(app, region="北京市")
    )
    assert (response.status_code, response.json["error"]["code"]) == (403, "outside_region")


def test_a_regional_campaign_is_not_offered_outside_its_region(app, client):
    beijing = f.community(app, province="北京市", city="北京市", district="朝阳区")
    campaign_id = create_campaign(client, manager(app, region="上海市"))["id"]
    auth = resident_of(app, beijing)
    assert listed(client, auth, beijing) == []
    assert claim(client, auth, campaign_id).status_code == 403


def test_expiry_is_decided_by_the_clock_when_read(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss)["id"]
    auth = resident_of(app, community_id)
    coupon_id = claim(client, auth, campaign_id).json["id"]
    with app.app_context():
        db.session.get(Coupon, coupon_id).valid_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    mine = client.get("/api/v1/me/coupons", headers=auth).json
    assert mine["items"][0]["state"] == "expired"
    assert client.get("/api/v1/me/coupons?state=usable", headers=auth).json["total"] == 0
    assert client.get("/api/v1/me/coupons?state=expired", headers=auth).json["total"] == 1


def _coupons(app) -> list[Coupon]:
    with app.app_context():
        return db.session.scalars(sa.select(Coupon)).all()


def _in_parallel(app, jobs: list, workers: int = 32) -> list[int]:
    """Each job is (headers, campaign_id); every thread has its own test client."""

    def run(job) -> int:
        headers, campaign_id = job
        response = app.test_client().post(
            f"/api/v1/coupons/{campaign_id}/claim", headers=headers, json={}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def test_240_parallel_claims_against_a_stock_of_50_issue_exactly_50(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, total_stock=50)["id"]
    residents = many_residents(app, community_id, 240)
    statuses = _in_parallel(app, [(f.resident_auth(app, rid), campaign_id) for rid in residents])
    assert (statuses.count(201), statuses.count(409)) == (50, 190)
    assert issued(app, campaign_id) == (50, 50)
    assert len({c.resident_id for c in _coupons(app)}) == 50


def test_one_resident_claiming_in_parallel_gets_no_more_than_the_limit(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=3)["id"]
    auth = resident_of(app, community_id)
    statuses = _in_parallel(app, [(auth, campaign_id)] * 40, workers=16)
    assert (statuses.count(201), statuses.count(409)) == (3, 37)
    assert issued(app, campaign_id) == (3, 3)
    assert sorted(c.seq for c in _coupons(app)) == [1, 2, 3]


def test_parallel_repeats_of_one_idempotency_key_issue_one_coupon(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=5)["id"]
    headers = {**resident_of(app, community_id), "Idempotency-Key": "double-tap"}
    statuses = _in_parallel(app, [(headers, campaign_id)] * 20, workers=10)
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 1
    assert issued(app, campaign_id) == (1, 1)


def test_one_residents_parallel_claims_under_the_limit_all_succeed(app, client, boss):
    # On PostgreSQL a claim counts the resident's coupons before it waits for the campaign's
    # lock; a claim that counted too early must count again, not be refused.
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss, per_resident_limit=8)["id"]
    auth = resident_of(app, community_id)
    statuses = _in_parallel(app, [(auth, campaign_id)] * 8, workers=8)
    assert statuses == [201] * 8
    assert issued(app, campaign_id) == (8, 8)
    assert sorted(c.seq for c in _coupons(app)) == list(range(1, 9))

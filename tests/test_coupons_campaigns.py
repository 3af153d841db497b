"""Coupon campaigns: managers create, preview, activate, pause and end them; regions hold."""

from datetime import timedelta

import pytest

from models.base import utcnow
from tests import factories as f
from tests.test_coupons_support import (
    age_resident,
    campaign_body,
    create_campaign,
    manager,
    many_residents,
    orders_last_month,
)

URL = "/api/v1/coupon-campaigns"


@pytest.fixture
def boss(app):
    return manager(app)


def test_a_manager_creates_a_campaign_as_a_draft(app, client, boss):
    response = client.post(URL, headers=boss, json=campaign_body(total_stock=50))
    assert response.status_code == 201
    body = response.json
    assert (body["status"], body["issued"], body["remaining"]) == ("draft", 0, 50)
    assert body["amount_off_cents"] == 1000
    assert body["region_scope"] is None


def test_a_percentage_needs_a_cap(client, boss):
    body = campaign_body(discount_kind="percent", percent_off=20, amount_off_cents=None)
    response = client.post(URL, headers=boss, json=body)
    assert response.status_code == 422
    assert "max_discount_cents" in response.json["error"]["fields"]


def test_a_fixed_discount_refuses_percentage_fields(client, boss):
    response = client.post(URL, headers=boss, json=campaign_body(percent_off=20))
    assert response.status_code == 422
    assert "percent_off" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    "validity",
    [{"valid_days": None}, {"valid_until": (utcnow() + timedelta(days=9)).isoformat()}],
    ids=["neither", "both"],
)
def test_exactly_one_kind_of_validity_is_required(client, boss, validity):
    response = client.post(URL, headers=boss, json=campaign_body(**validity))
    assert response.status_code == 422
    assert "valid_until" in response.json["error"]["fields"]


def test_a_validity_window_in_the_past_is_refused(client, boss):
    past = (utcnow() - timedelta(days=1)).isoformat()
    response = client.post(URL, headers=boss, json=campaign_body(valid_days=None, valid_until=past))
    assert response.status_code == 422


def test_an_unknown_service_is_refused(app, client, boss):
    known = f.service_type(app)
    response = client.post(URL, headers=boss, json=campaign_body(service_type_ids=[known, 999999]))
    assert response.status_code == 422
    assert "service_type_ids" in response.json["error"]["fields"]


def test_a_volume_band_must_be_ordered(client, boss):
    targeting = {"orders_per_1000": {"min": 5, "max": 2}}
    response = client.post(URL, headers=boss, json=campaign_body(targeting=targeting))
    assert response.status_code == 422


def test_a_stranger_hears_401(client):
    assert client.post(URL, json=campaign_body()).status_code == 401
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("role", ["resident", "engineer"])
def test_residents_and_engineers_cannot_create_campaigns(app, client, role):
    if role == "resident":
        auth = f.resident_auth(app, f.resident(app))
    else:
        auth = f.engineer_auth(app, f.engineer(app))
    response = client.post(URL, headers=auth, json=campaign_body())
    assert response.status_code == 403
    assert response.json["error"]["code"] == "role_forbidden"


def test_the_lifecycle_is_draft_active_paused_active_ended(client, boss):
    campaign_id = create_campaign(client, boss, activate=False)["id"]
    for action, status in [
        ("activate", "active"),
        ("pause", "paused"),
        ("activate", "active"),
        ("end", "ended"),
    ]:
        response = client.post(f"{URL}/{campaign_id}/{action}", headers=boss)
        assert (response.status_code, response.json["status"]) == (200, status)


def test_an_ended_campaign_cannot_come_back(client, boss):
    campaign_id = create_campaign(client, boss)["id"]
    client.post(f"{URL}/{campaign_id}/end", headers=boss)
    response = client.post(f"{URL}/{campaign_id}/activate", headers=boss)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "illegal_transition"


def test_an_unknown_action_is_404(client, boss):
    campaign_id = create_campaign(client, boss)["id"]
    assert client.post(f"{URL}/{campaign_id}/explode", headers=boss).status_code == 404


def test_the_detail_counts_coupons_by_state(app, client, boss):
    community_id = f.community(app)
    campaign_id = create_campaign(client, boss)["id"]
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    client.post(f"/api/v1/coupons/{campaign_id}/claim", headers=auth, json={})
    detail = client.get(f"{URL}/{campaign_id}", headers=boss).json
    assert detail["coupons"] == {"available": 1, "reserved": 0, "spent": 0, "expired": 0}
    assert (detail["issued"], detail["remaining"]) == (1, 99)


def test_the_preview_counts_communities_and_residents_reached(app, client, boss):
    tier_a = f.community(app, tier="A")
    f.community(app, tier="B")
    many_residents(app, tier_a, 7)
    campaign_id = create_campaign(client, boss, activate=False, targeting={"tiers": ["A"]})["id"]
    preview = client.get(f"{URL}/{campaign_id}/preview", headers=boss).json
    assert (preview["communities"], preview["residents"]) == (1, 7)
    assert [c["id"] for c in preview["sample"]] == [tier_a]


def test_a_resident_bound_to_two_reached_communities_counts_once(app, client, boss):
    first, second = f.community(app), f.community(app)
    f.resident(app, communities=(first, second))
    preview = client.post(f"{URL}/preview", headers=boss, json={"targeting": {}}).json
    assert (preview["communities"], preview["residents"]) == (2, 1)


def test_the_preview_reads_last_months_volume(app, client, boss):
    busy, quiet = f.community(app), f.community(app)  # 1,000 households each
    orders_last_month(app, busy, 12)
    orders_last_month(app, quiet, 1)
    rules = {"targeting": {"orders_per_1000": {"max": 5}}}
    preview = client.post(f"{URL}/preview", headers=boss, json=rules).json
    assert [c["id"] for c in preview["sample"]] == [quiet]
    assert preview["sample"][0]["orders_per_1000"] == 1.0


def test_the_preview_measures_the_radius(app, client, boss):
    near = f.community(app, lat=31.20, lng=121.44)
    f.community(app, lat=31.30, lng=121.44)  # about 11 km north
    rules = {"targeting": {"radius": {"lat": 31.19, "lng": 121.44, "radius_km": 3}}}
    preview = client.post(f"{URL}/preview", headers=boss, json=rules).json
    assert (preview["communities"], [c["id"] for c in preview["sample"]]) == (1, [near])


def test_the_preview_counts_only_new_residents_when_asked(app, client, boss):
    community_id = f.community(app)
    old = f.resident(app, communities=(community_id,))
    f.resident(app, communities=(community_id,))
    age_resident(app, old, 90)
    rules = {"targeting": {"new_residents_days": 30}}
    preview = client.post(f"{URL}/preview", headers=boss, json=rules).json
    assert preview["residents"] == 1


def test_a_regional_managers_campaign_reaches_only_their_region(app, client):
    shanghai = manager(app, region="上海市")
    f.community(app)  # 上海市
    f.community(app, province="北京市", city="北京市", district="朝阳区")
    campaign = create_campaign(client, shanghai, activate=False)
    assert campaign["region_scope"] == "上海市"
    preview = client.get(f"{URL}/{campaign['id']}/preview", headers=shanghai).json
    assert preview["communities"] == 1


def test_a_regional_manager_cannot_target_another_region(app, client):
    shanghai = manager(app, region="上海市")
    targeting = {"regions": [{"province": "北京市"}]}
    response = client.post(URL, headers=shanghai, json=campaign_body(targeting=targeting))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "outside_region"


def test_a_regional_manager_cannot_touch_another_regions_campaign(app, client):
    beijing_campaign = create_campaign(client, manager(app, region="北京市"))["id"]
    shanghai = manager(app, region="上海市")
    assert client.get(f"{URL}/{beijing_campaign}", headers=shanghai).status_code == 403
    response = client.post(f"{URL}/{beijing_campaign}/pause", headers=shanghai)
    assert response.status_code == 403
    assert client.get(URL, headers=shanghai).json["total"] == 0


def test_an_unscoped_manager_sees_every_campaign(app, client, boss):
    create_campaign(client, manager(app, region="北京市"))
    create_campaign(client, boss)
    assert client.get(URL, headers=boss).json["total"] == 2
    assert client.get(f"{URL}?status=draft", headers=boss).json["total"] == 0


def test_a_regional_manager_may_name_a_district_of_their_region(app, client):
    shanghai = manager(app, region="上海市")
    xuhui = f.community(app)  # 上海市 徐汇区
    f.community(app, province="北京市", city="北京市", district="徐汇区")  # same name elsewhere
    targeting = {"regions": [{"district": "徐汇区"}]}
    campaign = create_campaign(client, shanghai, activate=False, targeting=targeting)
    preview = client.get(f"{URL}/{campaign['id']}/preview", headers=shanghai).json
    assert [c["id"] for c in preview["sample"]] == [xuhui]

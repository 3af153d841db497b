"""A regional manager administers only the engineers of their region; the catalogue is admins'.

Engineers belong to the regions of the communities they serve (service_hub/auth/regions.py).
"""

from __future__ import annotations

import pytest

from tests import factories as f

BEIJING = {"province": "北京市", "city": "北京市", "district": "朝阳区", "lat": 39.9, "lng": 116.4}
NEW_ENGINEER = {
    "username": "zhang.shifu",
    "password": "long-enough-pw",
    "name": "张师傅",
    "base_lat": 31.2,
    "base_lng": 121.4,
}


def manager_auth(app, region: str | None = None) -> dict:
    return f.staff_auth(app, f.staff(app, "manager", region=region), "manager")


def admin_auth(app) -> dict:
    return f.staff_auth(app, f.staff(app, "admin"), "admin")


@pytest.fixture
def beijing_engineer(app) -> int:
    """An engineer who serves one community, in Beijing, and nothing else."""
    return f.engineer(app, communities=(f.community(app, **BEIJING),), base=(39.9, 116.4))


@pytest.fixture
def manager_sh(app) -> dict:
    return manager_auth(app, region="上海市")


def _refused(response, code: str = "outside_region") -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code


# --- acting on an engineer -------------------------------------------------------------------


def test_a_manager_cannot_switch_an_engineer_of_another_region_off_duty(
    client, beijing_engineer, manager_sh
):
    url = f"/api/v1/engineers/{beijing_engineer}"
    _refused(client.patch(url, headers=manager_sh, json={"on_duty": False}))
    assert client.get(url).json["engineer"]["on_duty"] is True


def test_a_manager_cannot_change_the_load_limit_of_an_engineer_of_another_region(
    app, client, beijing_engineer, manager_sh
):
    url = f"/api/v1/engineers/{beijing_engineer}"
    _refused(client.patch(url, headers=manager_sh, json={"max_open_orders": 0}))
    mine = client.get("/api/v1/engineers/me", headers=f.engineer_auth(app, beijing_engineer))
    assert mine.json["max_open_orders"] is None


def test_a_manager_cannot_replace_the_skills_of_an_engineer_of_another_region(
    client, beijing_engineer, manager_sh
):
    response = client.put(
        f"/api/v1/engineers/{beijing_engineer}/skills",
        headers=manager_sh,
        json={"skills": [{"skill": "boiler", "level": 1}]},
    )
    _refused(response)
    skills = client.get(f"/api/v1/engineers/{beijing_engineer}").json["skills"]
    assert skills == [{"skill": "purifier", "level": 3}]


def test_a_manager_cannot_pull_an_engineer_of_another_region_into_their_own(
    app, client, beijing_engineer, manager_sh
):
    shanghai = f.community(app)
    url = f"/api/v1/engineers/{beijing_engineer}/communities/{shanghai}"
    _refused(client.put(url, headers=manager_sh))
    assert client.get(f"/api/v1/communities/{shanghai}/engineers").json["total"] == 0


def test_a_manager_cannot_take_an_engineer_of_another_region_off_their_community(
    client, beijing_engineer, manager_sh
):
    beijing = client.get(f"/api/v1/engineers/{beijing_engineer}").json["communities"][0]["id"]
    url = f"/api/v1/engineers/{beijing_engineer}/communities/{beijing}"
    _refused(client.delete(url, headers=manager_sh))
    assert client.get(f"/api/v1/communities/{beijing}/engineers").json["total"] == 1


def test_the_manager_of_the_engineers_region_switches_them_off_duty(app, client, beijing_engineer):
    response = client.patch(
        f"/api/v1/engineers/{beijing_engineer}",
        headers=manager_auth(app, region="北京市"),
        json={"on_duty": False},
    )
    assert response.status_code == 200
    assert response.json["on_duty"] is False


def test_an_engineer_serving_one_community_in_the_region_is_the_managers_to_administer(
    app, client, manager_sh
):
    both = f.engineer(app, communities=(f.community(app, **BEIJING), f.community(app)))
    url = f"/api/v1/engineers/{both}"
    assert client.patch(url, headers=manager_sh, json={"on_duty": False}).status_code == 200


def test_a_regional_manager_cannot_administer_an_engineer_who_serves_no_community(
    app, client, manager_sh
):
    unassigned = f.engineer(app)
    response = client.put(
        f"/api/v1/engineers/{unassigned}/communities/{f.community(app)}", headers=manager_sh
    )
    _refused(response, "engineer_unassigned")


def test_an_admin_assigns_an_engineer_who_serves_no_community(app, client):
    unassigned, community_id = f.engineer(app), f.community(app)
    response = client.put(
        f"/api/v1/engineers/{unassigned}/communities/{community_id}", headers=admin_auth(app)
    )
    assert response.status_code == 200


# --- creating an engineer ----------------------------------------------------------------------


def test_a_regional_manager_creates_an_engineer_for_communities_of_the_region(
    app, client, manager_sh
):
    shanghai = f.community(app)
    body = {**NEW_ENGINEER, "community_ids": [shanghai]}
    created = client.post("/api/v1/engineers", headers=manager_sh, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    served = client.get(f"/api/v1/engineers/{created.json['id']}").json["communities"]
    assert [c["id"] for c in served] == [shanghai]


def test_a_regional_manager_cannot_create_an_engineer_for_another_region(app, client, manager_sh):
    body = {**NEW_ENGINEER, "community_ids": [f.community(app, **BEIJING)]}
    _refused(client.post("/api/v1/engineers", headers=manager_sh, json=body))
    login = {"login": NEW_ENGINEER["username"], "password": NEW_ENGINEER["password"]}
    assert client.post("/api/v1/auth/staff-login", json=login).status_code == 401


def test_a_regional_manager_cannot_create_an_engineer_who_serves_no_community(client, manager_sh):
    response = client.post("/api/v1/engineers", headers=manager_sh, json=NEW_ENGINEER)
    _refused(response, "engineer_unassigned")


# --- the national service catalogue ------------------------------------------------------------

SERVICE = {"code": "softener_install", "name": "软水机安装", "skill": "purifier"}


@pytest.mark.parametrize("region", ["上海市", None], ids=["regional", "unscoped"])
def test_a_manager_cannot_add_a_service_type(app, client, region):
    response = client.post("/api/v1/services", headers=manager_auth(app, region), json=SERVICE)
    _refused(response, "role_forbidden")
    assert client.get("/api/v1/services").json["total"] == 0


@pytest.mark.parametrize("region", ["上海市", None], ids=["regional", "unscoped"])
def test_a_manager_cannot_change_a_service_price(app, client, region):
    service_id = f.service_type(app)
    before = client.get("/api/v1/services").json["items"][0]["base_price_cents"]
    response = client.patch(
        f"/api/v1/services/{service_id}",
        headers=manager_auth(app, region),
        json={"base_price_cents": 1},
    )
    _refused(response, "role_forbidden")
    assert client.get("/api/v1/services").json["items"][0]["base_price_cents"] == before


def test_an_admin_changes_a_service_price(app, client):
    service_id = f.service_type(app)
    response = client.patch(
        f"/api/v1/services/{service_id}", headers=admin_auth(app), json={"base_price_cents": 12900}
    )
    assert response.status_code == 200
    assert response.json["base_price_cents"] == 12900

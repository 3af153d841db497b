"""Engineer profiles and managers' administration of engineers."""

from tests import factories as f


def manager_auth(app, region=None):
    return f.staff_auth(app, f.staff(app, "manager", region=region), "manager")


def admin_auth(app):
    return f.staff_auth(app, f.staff(app, "admin"), "admin")


def test_a_manager_creates_an_engineer_who_can_then_sign_in(app, client):
    response = client.post(
        "/api/v1/engineers",
        headers=manager_auth(app),
        json={
            "username": "li.shifu",
            "password": "long-enough-pw",
            "name": "李师傅",
            "base_lat": 31.2,
            "base_lng": 121.4,
        },
    )
    assert response.status_code == 201
    login = client.post(
        "/api/v1/auth/staff-login", json={"login": "li.shifu", "password": "long-enough-pw"}
    )
    assert login.json["engineer_id"] == response.json["id"]


def test_the_public_profile_shows_skills_and_communities_but_not_the_base(app, client):
    community_id = f.community(app)
    engineer_id = f.engineer(app, communities=(community_id,), skills={"aircon": 4})
    profile = client.get(f"/api/v1/engineers/{engineer_id}").json
    assert profile["skills"] == [{"skill": "aircon", "level": 4}]
    assert [c["id"] for c in profile["communities"]] == [community_id]
    assert "base_lat" not in profile["engineer"]


def test_assigning_a_community_twice_is_harmless(app, client):
    engineer_id, community_id = f.engineer(app), f.community(app)
    auth = manager_auth(app)
    url = f"/api/v1/engineers/{engineer_id}/communities/{community_id}"
    assert client.put(url, headers=auth).json["created"] is True
    assert client.put(url, headers=auth).json["created"] is False
    ranked = client.get(f"/api/v1/communities/{community_id}/engineers").json
    assert [r["engineer"]["id"] for r in ranked["items"]] == [engineer_id]


def test_a_regional_manager_cannot_assign_outside_the_region(app, client):
    engineer_id, community_id = f.engineer(app), f.community(app)
    response = client.put(
        f"/api/v1/engineers/{engineer_id}/communities/{community_id}",
        headers=manager_auth(app, region="北京市"),
    )
    assert response.status_code == 403


def test_unassigning_removes_the_engineer_from_the_community_ranking(app, client):
    community_id = f.community(app)
    engineer_id = f.engineer(app, communities=(community_id,))
    client.delete(
        f"/api/v1/engineers/{engineer_id}/communities/{community_id}", headers=manager_auth(app)
    )
    assert client.get(f"/api/v1/communities/{community_id}/engineers").json["total"] == 0


def test_skills_are_replaced_as_a_whole(app, client):
    engineer_id = f.engineer(app, skills={"purifier": 2})
    response = client.put(
        f"/api/v1/engineers/{engineer_id}/skills",
        headers=manager_auth(app),
        json={"skills": [{"skill": "boiler", "level": 3}]},
    )
    assert response.status_code == 200
    assert client.get(f"/api/v1/engineers/{engineer_id}").json["skills"] == [
        {"skill": "boiler", "level": 3}
    ]


def test_a_skill_level_above_five_is_refused(app, client):
    engineer_id = f.engineer(app)
    response = client.put(
        f"/api/v1/engineers/{engineer_id}/skills",
        headers=manager_auth(app),
        json={"skills": [{"skill": "boiler", "level": 9}]},
    )
    assert response.status_code == 422


def test_an_engineer_sets_their_working_hours(app, client):
    engineer_id = f.engineer(app)
    hours = {"days": [1, 2, 3, 4, 5], "start": "08:30", "end": "18:00"}
    response = client.patch(
        "/api/v1/engineers/me",
        headers=f.engineer_auth(app, engineer_id),
        json={"working_hours": hours},
    )
    assert response.status_code == 200
    assert client.get(f"/api/v1/engineers/{engineer_id}").json["engineer"]["working_hours"] == hours


def test_working_hours_ending_before_they_start_are_refused(app, client):
    engineer_id = f.engineer(app)
    response = client.patch(
        "/api/v1/engineers/me",
        headers=f.engineer_auth(app, engineer_id),
        json={"working_hours": {"days": [1], "start": "18:00", "end": "08:00"}},
    )
    assert response.status_code == 422


def test_an_engineer_cannot_change_their_own_load_limit(app, client):
    engineer_id = f.engineer(app)
    response = client.patch(
        "/api/v1/engineers/me",
        headers=f.engineer_auth(app, engineer_id),
        json={"max_open_orders": 50},
    )
    assert response.status_code == 422


def test_an_admin_adds_a_service_type_and_residents_see_it(app, client):
    response = client.post(
        "/api/v1/services",
        headers=admin_auth(app),
        json={
            "code": "softener_install",
            "name": "软水机安装",
            "skill": "purifier",
            "duration_minutes": 90,
            "base_price_cents": 19900,
        },
    )
    assert response.status_code == 201
    codes = [s["code"] for s in client.get("/api/v1/services").json["items"]]
    assert codes == ["softener_install"]


def test_a_withdrawn_service_type_leaves_the_catalogue(app, client):
    service_id = f.service_type(app)
    client.patch(f"/api/v1/services/{service_id}", headers=admin_auth(app), json={"active": False})
    assert client.get("/api/v1/services").json["total"] == 0


def test_a_duplicate_service_code_is_a_conflict(app, client):
    auth = admin_auth(app)
    body = {"code": "dup_code", "name": "服务", "skill": "purifier"}
    client.post("/api/v1/services", headers=auth, json=body)
    assert client.post("/api/v1/services", headers=auth, json=body).status_code == 409


def test_a_resident_sets_an_optional_nickname(app, client):
    auth = f.resident_auth(app, f.resident(app))
    assert client.get("/api/v1/me", headers=auth).json["nickname"] is None
    client.patch("/api/v1/me", headers=auth, json={"nickname": "小王"})
    assert client.get("/api/v1/me", headers=auth).json["nickname"] == "小王"

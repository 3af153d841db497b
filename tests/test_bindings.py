"""Residents bind to communities: several allowed, repeats harmless, an upper bound."""

from tests import factories as f


def test_binding_twice_returns_the_same_binding(app, client):
    community_id = f.community(app)
    auth = f.resident_auth(app, f.resident(app))
    first = client.put(f"/api/v1/me/communities/{community_id}", headers=auth)
    again = client.put(f"/api/v1/me/communities/{community_id}", headers=auth)
    assert (first.json["created"], again.json["created"]) == (True, False)
    listing = client.get("/api/v1/me/communities", headers=auth).json
    assert [c["id"] for c in listing["items"]] == [community_id]


def test_binding_beyond_the_limit_is_a_conflict(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_COMMUNITIES_PER_RESIDENT", 2)
    auth = f.resident_auth(app, f.resident(app, communities=(f.community(app), f.community(app))))
    response = client.put(f"/api/v1/me/communities/{f.community(app)}", headers=auth)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "too_many_communities"


def test_binding_an_unknown_community_is_404(app, client):
    auth = f.resident_auth(app, f.resident(app))
    response = client.put("/api/v1/me/communities/999999", headers=auth)
    assert response.status_code == 404


def test_unbinding_removes_the_community_and_a_repeat_is_harmless(app, client):
    community_id = f.community(app)
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    for _ in range(2):
        assert (
            client.delete(f"/api/v1/me/communities/{community_id}", headers=auth).status_code == 204
        )
    assert client.get("/api/v1/me/communities", headers=auth).json["total"] == 0


def test_staff_cannot_bind_communities(app, client):
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = client.put(f"/api/v1/me/communities/{f.community(app)}", headers=manager)
    assert response.status_code == 403


def test_a_page_size_over_the_limit_is_refused(app, client):
    auth = f.resident_auth(app, f.resident(app))
    response = client.get("/api/v1/me/communities?page_size=1000", headers=auth)
    assert response.status_code == 422
    assert "page_size" in response.json["error"]["fields"]


def test_community_home_lists_engineers_best_first(app, client):
    community_id = f.community(app)
    low = f.engineer(app, communities=(community_id,), standing=0.2)
    high = f.engineer(app, communities=(community_id,), standing=0.8)
    home = client.get(f"/api/v1/communities/{community_id}").json
    assert [e["engineer"]["id"] for e in home["engineers"]] == [high, low]

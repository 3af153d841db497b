"""Engineers as residents judge them, on the community home, the community's ranking and the
engineer's profile: name, photo, years, rating and reviews there; the standing (the ranking's
internal figure) and its breakdown for managers and admins only (docs/privacy.md). The home
also says whether the calling resident is bound, and names each visit's engineer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Visit
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f
from tests.test_community_home import counted_queries, populate

PHOTO = "/media/engineer-3.jpg"


@pytest.fixture
def world(app, client, run_jobs):
    community = f.community(app)
    resident = f.resident(app, communities=(community,))
    engineer = f.engineer(
        app, communities=(community,), name="王建国", photo_url=PHOTO, years_of_service=10
    )
    for rating in (5, 4):
        order_id = f.completed_order(app, client, run_jobs, community, resident, engineer)
        auth = f.resident_auth(app, resident)
        response = client.post(
            f"/api/v1/orders/{order_id}/review", headers=auth, json={"rating": rating}
        )
        assert response.status_code == 201, response.json
    run_jobs()
    return {
        "community": community,
        "engineer": engineer,
        "resident": f.resident_auth(app, resident),
        "stranger": f.resident_auth(app, f.resident(app)),
        "engineer_auth": f.engineer_auth(app, engineer),
        "manager": f.staff_auth(app, f.staff(app, "manager"), "manager"),
    }


def home(client, world, caller: str | None = None) -> dict:
    headers = world[caller] if caller else {}
    response = client.get(f"/api/v1/communities/{world['community']}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_resident_sees_an_engineers_rating_and_reviews_on_the_home(client, world):
    [item] = home(client, world, "resident")["engineers"]
    assert (item["average_rating"], item["review_count"]) == (4.5, 2)
    assert item["engineer"] == {
        "id": world["engineer"],
        "name": "王建国",
        "photo_url": PHOTO,
        "years_of_service": 10,
    }


def test_a_resident_does_not_see_the_standing_on_the_home(client, world):
    [item] = home(client, world, "resident")["engineers"]
    assert item["standing"] is None


def test_a_manager_sees_the_standing_on_the_home(client, world):
    [item] = home(client, world, "manager")["engineers"]
    assert 0 < item["standing"] < 1


def test_the_home_says_whether_the_calling_resident_is_bound(client, world):
    assert home(client, world, "resident")["is_bound"] is True
    assert home(client, world, "stranger")["is_bound"] is False
    assert home(client, world)["is_bound"] is False


def test_a_bad_token_on_the_home_is_a_401_not_a_strangers_view(client, world):
    response = client.get(
        f"/api/v1/communities/{world['community']}",
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401


def test_the_home_names_each_visits_engineer(app, client, world):
    start = utcnow() + timedelta(days=1)
    with app.app_context():
        db.session.add(
            Visit(
                engineer_id=world["engineer"],
                community_id=world["community"],
                starts_at=start,
                ends_at=start + timedelta(hours=2),
            )
        )
        db.session.commit()
    visits = home(client, world, "resident")["upcoming_visits"]
    assert visits
    assert {(v["engineer"]["name"], v["engineer"]["photo_url"]) for v in visits} == {
        ("王建国", PHOTO)
    }


def test_a_residents_home_costs_the_same_queries_for_a_large_community(app, client):
    small, large = f.community(app), f.community(app)
    populate(app, small, 1)
    populate(app, large, 25)
    resident = f.resident_auth(app, f.resident(app, communities=(small, large)))

    def cost(community_id: int) -> int:
        with counted_queries(app) as statements:
            response = client.get(f"/api/v1/communities/{community_id}", headers=resident)
            assert response.status_code == 200
        return len(statements)

    # Connections opened, and each shared part built and cached: the caller's part is what a
    # resident's read costs then (tests/test_community_home.py).
    cost(small), cost(large)
    assert cost(large) == cost(small)


def test_the_ranking_shows_residents_ratings_not_standings(client, world):
    path = f"/api/v1/communities/{world['community']}/engineers"
    [item] = client.get(path, headers=world["resident"]).json["items"]
    assert (item["average_rating"], item["review_count"]) == (4.5, 2)
    assert (item["standing"], item["standing_breakdown"]) == (None, None)


def test_the_ranking_shows_a_manager_the_standing_and_its_breakdown(client, world):
    path = f"/api/v1/communities/{world['community']}/engineers"
    [item] = client.get(path, headers=world["manager"]).json["items"]
    assert item["standing_breakdown"]["reviews"] == 2
    assert item["standing"] == item["standing_breakdown"]["standing"]


def test_an_engineer_does_not_see_other_engineers_standings(app, client, world):
    other = f.engineer_auth(app, f.engineer(app, communities=(world["community"],)))
    path = f"/api/v1/communities/{world['community']}/engineers"
    items = client.get(path, headers=other).json["items"]
    assert [item["standing"] for item in items] == [None, None]


def test_a_profile_shows_its_engineer_their_own_standing_and_a_resident_none(client, world):
    path = f"/api/v1/engineers/{world['engineer']}"
    [mine] = client.get(path, headers=world["engineer_auth"]).json["communities"]
    [theirs] = client.get(path, headers=world["resident"]).json["communities"]
    assert mine["standing"] > 0
    assert theirs["standing"] is None


def test_optional_sign_in_is_documented_on_the_routes_anyone_may_call(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/communities/{community_id}",
        "/api/v1/communities/{community_id}/engineers",
        "/api/v1/engineers/{engineer_id}",
    ):
        assert paths[path]["get"]["security"] == [{}, {"bearerAuth": []}], path

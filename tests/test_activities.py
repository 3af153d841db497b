"""Activities: managers create them, residents of those communities sign up once."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import ActivitySignup
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f


def times(**overrides) -> dict:
    start = utcnow() + timedelta(days=3)
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    return {**body, **overrides}


@pytest.fixture
def manager(app):
    return f.staff_auth(app, f.staff(app, "manager"), "manager")


def create(client, manager, community_id, **extra):
    body = {"title": "净水知识讲座", "place": "小区会所", "capacity": 2, **times(), **extra}
    return client.post(f"/api/v1/communities/{community_id}/activities", headers=manager, json=body)


def test_a_manager_creates_an_activity_for_several_communities(app, client, manager):
    first, second = f.community(app), f.community(app)
    created = create(client, manager, first, other_community_ids=[second])
    assert created.status_code == 201
    for community_id in (first, second):
        listing = client.get(f"/api/v1/communities/{community_id}/activities").json
        assert [a["id"] for a in listing["items"]] == [created.json["id"]]


def test_a_resident_cannot_create_an_activity(app, client):
    community_id = f.community(app)
    resident = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    assert create(client, resident, community_id).status_code == 403


def test_an_activity_ending_before_it_starts_is_refused(app, client, manager):
    start = utcnow() + timedelta(days=1)
    response = create(
        client,
        manager,
        f.community(app),
        starts_at=start.isoformat(),
        ends_at=(start - timedelta(hours=1)).isoformat(),
    )
    assert response.status_code == 422
    assert "ends_at" in response.json["error"]["fields"]


def test_a_regional_manager_cannot_open_an_activity_outside_the_region(app, client):
    regional = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    assert create(client, regional, f.community(app)).status_code == 403


def test_signing_up_twice_keeps_one_place(app, client, manager):
    community_id = f.community(app)
    activity_id = create(client, manager, community_id).json["id"]
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    url = f"/api/v1/activities/{activity_id}/signups"
    assert client.post(url, headers=auth).status_code == 201
    assert client.post(url, headers=auth).status_code == 200
    assert client.get(f"/api/v1/activities/{activity_id}").json["signed_up"] == 1


def test_a_resident_of_another_community_cannot_sign_up(app, client, manager):
    activity_id = create(client, manager, f.community(app)).json["id"]
    outsider = f.resident_auth(app, f.resident(app, communities=(f.community(app),)))
    response = client.post(f"/api/v1/activities/{activity_id}/signups", headers=outsider)
    assert response.status_code == 403


def test_a_full_activity_refuses_the_next_resident(app, client, manager):
    community_id = f.community(app)
    activity_id = create(client, manager, community_id, capacity=1).json["id"]
    url = f"/api/v1/activities/{activity_id}/signups"
    client.post(url, headers=f.resident_auth(app, f.resident(app, communities=(community_id,))))
    late = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    response = client.post(url, headers=late)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "activity_full"


def test_cancelling_frees_the_place_for_someone_else(app, client, manager):
    community_id = f.community(app)
    activity_id = create(client, manager, community_id, capacity=1).json["id"]
    url = f"/api/v1/activities/{activity_id}/signups"
    first = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    client.post(url, headers=first)
    assert client.delete(f"{url}/me", headers=first).status_code == 204
    second = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    assert client.post(url, headers=second).status_code == 201


def test_sign_up_before_the_window_opens_is_refused(app, client, manager):
    community_id = f.community(app)
    opens = utcnow() + timedelta(days=1)
    activity_id = create(client, manager, community_id, signup_opens_at=opens.isoformat()).json[
        "id"
    ]
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    response = client.post(f"/api/v1/activities/{activity_id}/signups", headers=auth)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "signup_closed"


def test_capacity_holds_under_parallel_sign_ups(app, client, manager):
    community_id = f.community(app)
    activity_id = create(client, manager, community_id, capacity=50).json["id"]
    headers = [f.resident_auth(app, rid) for rid in f.many_residents(app, community_id, 120)]

    def sign_up(auth: dict) -> int:
        return (
            app.test_client()
            .post(f"/api/v1/activities/{activity_id}/signups", headers=auth)
            .status_code
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(sign_up, headers))
    assert (statuses.count(201), statuses.count(409)) == (50, 70)
    with app.app_context():
        active = db.session.scalar(
            sa.select(sa.func.count()).where(
                ActivitySignup.activity_id == activity_id, ActivitySignup.status == "active"
            )
        )
    assert active == 50
    assert client.get(f"/api/v1/activities/{activity_id}").json["signed_up"] == 50


def test_parallel_sign_up_and_cancel_keep_the_counter_equal_to_the_places(app, client, manager):
    community_id = f.community(app)
    activity_id = create(client, manager, community_id, capacity=5).json["id"]
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    url = f"/api/v1/activities/{activity_id}/signups"

    def toggle(n: int) -> int:
        own = app.test_client()
        if n % 2 == 0:
            return own.post(url, headers=auth).status_code
        return own.delete(f"{url}/me", headers=auth).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(toggle, range(40)))
    assert not [s for s in statuses if s >= 500]
    with app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count()).where(
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.status.in_(("active", "attended")),
            )
        )
    assert client.get(f"/api/v1/activities/{activity_id}").json["signed_up"] == live

"""Visits: engineers announce them, every resident hears, residents book follow-on slots."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Booking, Engineer, ServiceOrder
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f


@pytest.fixture
def world(app):
    community_id = f.community(app)
    return {
        "community": community_id,
        "engineer": f.engineer(app, communities=(community_id,), skills={"purifier": 3}),
        "service": f.service_type(app, skill="purifier"),
    }


def announce(app, client, world, capacity=1, slots=2, **extra):
    start = utcnow() + timedelta(days=1)
    body = {
        "community_id": world["community"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=slots)).isoformat(),
        "slots": [
            {
                "starts_at": (start + timedelta(hours=n)).isoformat(),
                "ends_at": (start + timedelta(hours=n + 1)).isoformat(),
                "capacity": capacity,
            }
            for n in range(slots)
        ],
        **extra,
    }
    return client.post(
        "/api/v1/engineers/me/visits", json=body, headers=f.engineer_auth(app, world["engineer"])
    )


def book(app, client, visit, resident_id, world, slot=0):
    return client.post(
        f"/api/v1/visits/{visit['id']}/bookings",
        headers=f.resident_auth(app, resident_id),
        json={"slot_id": visit["slots"][slot]["id"], "service_type_id": world["service"]},
    )


def test_an_announced_visit_reaches_every_resident_of_the_community(app, client, run_jobs, world):
    residents = [f.resident(app, communities=(world["community"],)) for _ in range(3)]
    assert announce(app, client, world).status_code == 201
    run_jobs()
    for resident_id in residents:
        inbox = client.get("/api/v1/me/inbox", headers=f.resident_auth(app, resident_id)).json
        assert [i["kind"] for i in inbox["items"]] == ["visit_announced"]


def test_an_engineer_cannot_announce_a_visit_to_a_community_they_do_not_serve(app, client, world):
    response = announce(app, client, {**world, "community": f.community(app)})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_serving_community"


def test_a_slot_outside_the_visit_is_refused(app, client, world):
    start = utcnow() + timedelta(days=1)
    response = announce(app, client, world, ends_at=(start + timedelta(minutes=30)).isoformat())
    assert response.status_code == 422


def test_booking_a_slot_creates_an_order_assigned_to_the_visiting_engineer(app, client, world):
    visit = announce(app, client, world).json
    resident_id = f.resident(app, communities=(world["community"],))
    response = book(app, client, visit, resident_id, world)
    assert response.status_code == 201
    with app.app_context():
        order = db.session.get(ServiceOrder, response.json["order_id"])
        assert (order.status, order.engineer_id, order.source) == (
            "accepted",
            world["engineer"],
            "visit_booking",
        )


def test_booking_the_same_visit_twice_returns_the_first_booking(app, client, world):
    visit = announce(app, client, world).json
    resident_id = f.resident(app, communities=(world["community"],))
    first = book(app, client, visit, resident_id, world)
    again = book(app, client, visit, resident_id, world, slot=1)
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]


def test_a_full_slot_refuses_the_next_resident(app, client, world):
    visit = announce(app, client, world).json
    book(app, client, visit, f.resident(app, communities=(world["community"],)), world)
    response = book(app, client, visit, f.resident(app, communities=(world["community"],)), world)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "slot_full"


def test_a_resident_of_another_community_cannot_book(app, client, world):
    visit = announce(app, client, world).json
    outsider = f.resident(app, communities=(f.community(app),))
    assert book(app, client, visit, outsider, world).status_code == 403


def test_a_service_the_engineer_cannot_do_is_refused(app, client, world):
    visit = announce(app, client, world).json
    resident_id = f.resident(app, communities=(world["community"],))
    response = book(
        app, client, visit, resident_id, {**world, "service": f.service_type(app, skill="boiler")}
    )
    assert response.status_code == 422


def test_cancelling_a_booking_frees_the_slot_and_cancels_the_order(app, client, world):
    visit = announce(app, client, world).json
    first = f.resident(app, communities=(world["community"],))
    order_id = book(app, client, visit, first, world).json["order_id"]
    response = client.delete(
        f"/api/v1/visits/{visit['id']}/bookings/me", headers=f.resident_auth(app, first)
    )
    assert response.status_code == 204
    second = f.resident(app, communities=(world["community"],))
    assert book(app, client, visit, second, world).status_code == 201
    with app.app_context():
        assert db.session.get(ServiceOrder, order_id).status == "cancelled"


def test_an_accepted_order_offers_follow_on_slots_to_neighbours(app, client, run_jobs, world):
    owner = f.resident(app, communities=(world["community"],))
    order_id = client.post(
        "/api/v1/orders",
        headers=f.resident_auth(app, owner),
        json={"community_id": world["community"], "service_type_id": world["service"]},
    ).json["id"]
    run_jobs()
    client.post(
        f"/api/v1/orders/{order_id}/accept",
        headers=f.engineer_auth(app, world["engineer"]),
        json={},
    )
    [visit] = client.get(f"/api/v1/communities/{world['community']}/visits").json["items"]
    assert len(visit["slots"]) == app.config["VISIT_FOLLOW_ON_SLOTS"]
    neighbour = f.resident(app, communities=(world["community"],))
    assert book(app, client, visit, neighbour, world).status_code == 201


def test_a_communitys_visits_name_their_engineer_for_residents(app, client, world):
    announce(app, client, world)
    [listed] = client.get(f"/api/v1/communities/{world['community']}/visits").json["items"]
    with app.app_context():
        engineer = db.session.get(Engineer, world["engineer"])
        expected = {"id": engineer.id, "name": engineer.name, "photo_url": engineer.photo_url}
    assert listed["engineer"] == expected


def test_slot_capacity_holds_under_parallel_bookings(app, client, world):
    visit = announce(app, client, world, capacity=5, slots=1).json
    residents = f.many_residents(app, world["community"], 40)

    def attempt(resident_id: int) -> int:
        return book(app, app.test_client(), visit, resident_id, world).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(attempt, residents))
    assert (statuses.count(201), statuses.count(409)) == (5, 35)
    [listed] = client.get(f"/api/v1/communities/{world['community']}/visits").json["items"]
    assert listed["slots"][0]["booked"] == 5


def cancel_booking(app, client, visit, resident_id):
    return client.delete(
        f"/api/v1/visits/{visit['id']}/bookings/me", headers=f.resident_auth(app, resident_id)
    )


def test_a_resident_who_cancelled_may_book_the_same_visit_again(app, client, world):
    visit = announce(app, client, world).json
    resident_id = f.resident(app, communities=(world["community"],))
    first = book(app, client, visit, resident_id, world)
    assert cancel_booking(app, client, visit, resident_id).status_code == 204
    again = book(app, client, visit, resident_id, world)
    assert (again.status_code, again.json["id"] != first.json["id"]) == (201, True)


def test_a_residents_parallel_bookings_of_one_visit_make_one_booking(app, client, world):
    visit = announce(app, client, world, capacity=1, slots=2).json
    resident_id = f.resident(app, communities=(world["community"],))

    def attempt(slot: int):
        response = book(app, app.test_client(), visit, resident_id, world, slot=slot)
        return response.status_code, response.json.get("id")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, [0, 1] * 4))
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len({booking_id for _, booking_id in results}) == 1


def test_slot_counters_equal_the_bookings_after_parallel_booking_and_cancelling(app, client, world):
    visit = announce(app, client, world, capacity=3, slots=1).json
    residents = f.many_residents(app, world["community"], 6)

    def churn(resident_id: int) -> list[int]:
        own = app.test_client()
        return [
            book(app, own, visit, resident_id, world).status_code
            if n % 2 == 0
            else cancel_booking(app, own, visit, resident_id).status_code
            for n in range(6)
        ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [s for run in pool.map(churn, residents) for s in run]
    assert not [s for s in statuses if s >= 500]
    with app.app_context():
        active = db.session.scalar(
            sa.select(sa.func.count()).where(
                Booking.slot_id == visit["slots"][0]["id"], Booking.status == "active"
            )
        )
    [listed] = client.get(f"/api/v1/communities/{world['community']}/visits").json["items"]
    assert listed["slots"][0]["booked"] == active

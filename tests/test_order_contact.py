"""Where and who on an order: the address and contact it copies at creation, who sees the
contact mobile in full (docs/privacy.md), the offer's summary, the map link, completion photos."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from models import ServiceOrder, Upload
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f

MOBILE, MASKED = "13800138000", "138****8000"
_image_numbers = itertools.count(1)


@pytest.fixture
def world(app):
    here = f.community(
        app, name="阳光小区", district="浦东新区", address="XX路88号", lat=31.2304, lng=121.4737
    )
    resident = f.resident(app, communities=(here,))
    return {
        "here": here,
        "resident": resident,
        "auth": f.resident_auth(app, resident),
        "service": f.service_type(app, name="净水器滤芯更换"),
        # 0.1° north of the community: about 11.1 km away
        "engineer": f.engineer(app, communities=(here,), base=(31.3304, 121.4737)),
    }


def add_address(client, world, auth=None, **changes) -> dict:
    body = {
        "community_id": world["here"],
        "building": "12",
        "unit": "2",
        "room": "301",
        "contact_name": "张女士",
        "mobile": MOBILE,
        **changes,
    }
    response = client.post("/api/v1/me/addresses", headers=auth or world["auth"], json=body)
    assert response.status_code == 201, ("add address", response.json)
    return response.json


def post_order(client, world, headers=None, **extra):
    body = {"community_id": world["here"], "service_type_id": world["service"], **extra}
    return client.post("/api/v1/orders", json=body, headers=headers or world["auth"])


def created(client, world, **extra) -> int:
    response = post_order(client, world, **extra)
    assert response.status_code == 201, ("create order", response.json)
    return response.json["id"]


def act(app, client, world, order_id: int, *actions: str, **body) -> dict:
    engineer = f.engineer_auth(app, world["engineer"])
    response = None
    for action in actions:
        response = client.post(f"/api/v1/orders/{order_id}/{action}", headers=engineer, json=body)
        assert response.status_code == 200, (action, response.json)
    return response.json


def seen_by(client, order_id: int, headers: dict) -> dict:
    response = client.get(f"/api/v1/orders/{order_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def order_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder))


def uploaded(app) -> str:
    """The URL of an image uploaded here (its row made directly)."""
    sha = hashlib.sha256(f"contact-{next(_image_numbers)}".encode()).hexdigest()
    with app.app_context():
        db.session.add(
            Upload(
                sha256=sha,
                content_type="image/jpeg",
                extension="jpg",
                size_bytes=100,
                width=10,
                height=10,
                uploader_kind="staff",
                uploader_id=1,
            )
        )
        db.session.commit()
    return f"{app.config['UPLOAD_URL_PREFIX']}{sha}.jpg"


@contextlib.contextmanager
def counted_statements(app):
    """Count the SQL statements run inside the block."""
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*args):
        seen.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


# ---- the copy an order keeps ----


def test_an_order_copies_the_default_address_and_contact(client, world):
    add_address(client, world)
    order = post_order(client, world).json
    assert order["address_text"] == "阳光小区 浦东新区XX路88号 12号楼2单元301室"
    assert order["contact_name"] == "张女士"
    assert order["community_address"] == "浦东新区XX路88号"
    assert order["service_name"] == "净水器滤芯更换"


def test_an_order_names_one_of_the_residents_addresses(client, world):
    add_address(client, world)
    other = add_address(client, world, room="502", contact_name="张先生")
    order = post_order(client, world, address_id=other["id"]).json
    assert order["address_id"] == other["id"]
    assert order["address_text"].endswith("12号楼2单元502室")
    assert order["contact_name"] == "张先生"


def test_an_order_without_address_id_takes_the_only_address_there(app, client, world):
    there = f.community(app)
    client.put(f"/api/v1/me/communities/{there}", headers=world["auth"])
    add_address(client, world, community_id=there)  # the default, elsewhere
    only = add_address(client, world)
    assert post_order(client, world).json["address_id"] == only["id"]


def test_an_order_without_address_id_and_no_clear_choice_has_no_address(app, client, world):
    there = f.community(app)
    client.put(f"/api/v1/me/communities/{there}", headers=world["auth"])
    add_address(client, world, community_id=there)  # the default, elsewhere
    add_address(client, world)
    add_address(client, world, room="502")
    order = post_order(client, world).json
    assert (order["address_id"], order["address_text"], order["contact_mobile"]) == (
        None,
        None,
        None,
    )


def test_another_residents_address_cannot_be_ordered_to(app, client, world):
    neighbour = f.resident(app, communities=(world["here"],))
    theirs = add_address(client, world, auth=f.resident_auth(app, neighbour))
    response = post_order(client, world, address_id=theirs["id"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_address"
    assert response.json["error"]["message_zh"]
    assert order_count(app) == 0


def test_an_address_of_another_community_cannot_be_on_the_order(app, client, world):
    there = f.community(app)
    client.put(f"/api/v1/me/communities/{there}", headers=world["auth"])
    elsewhere = add_address(client, world, community_id=there)
    response = post_order(client, world, address_id=elsewhere["id"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "address_in_other_community"
    assert order_count(app) == 0


def test_an_unknown_address_id_is_refused(app, client, world):
    response = post_order(client, world, address_id=999999)
    assert response.status_code == 422
    assert "address_id" in response.json["error"]["fields"]
    assert order_count(app) == 0


def test_a_manager_records_a_phone_order_to_the_residents_address(app, client, world):
    address = add_address(client, world)
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = post_order(
        client, world, headers=manager, resident_id=world["resident"], address_id=address["id"]
    )
    assert response.status_code == 201, response.json
    assert response.json["address_text"].endswith("12号楼2单元301室")
    assert response.json["contact_mobile"] == MASKED  # managers see it masked


def test_a_manager_cannot_name_another_residents_address(app, client, world):
    neighbour = f.resident(app, communities=(world["here"],))
    theirs = add_address(client, world, auth=f.resident_auth(app, neighbour))
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    response = post_order(
        client, world, headers=manager, resident_id=world["resident"], address_id=theirs["id"]
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_address"


def test_editing_or_deleting_the_address_never_changes_the_order(app, client, world):
    address = add_address(client, world)
    order_id = created(client, world)
    url = f"/api/v1/me/addresses/{address['id']}"
    client.patch(url, headers=world["auth"], json={"room": "999", "mobile": "13912345678"})
    edited = seen_by(client, order_id, world["auth"])
    assert edited["address_text"].endswith("12号楼2单元301室")
    assert edited["contact_mobile"] == MOBILE
    assert client.delete(url, headers=world["auth"]).status_code == 204
    deleted = seen_by(client, order_id, world["auth"])
    assert deleted["address_id"] is None
    assert deleted["address_text"].endswith("12号楼2单元301室")


# ---- who sees the mobile in full ----


def test_the_resident_sees_their_own_contact_mobile(client, world):
    add_address(client, world)
    order_id = created(client, world)
    assert seen_by(client, order_id, world["auth"])["contact_mobile"] == MOBILE


def test_an_offered_engineer_sees_the_mobile_masked(app, client, run_jobs, world):
    add_address(client, world)
    order_id = created(client, world)
    run_jobs()
    engineer = f.engineer_auth(app, world["engineer"])
    assert seen_by(client, order_id, engineer)["contact_mobile"] == MASKED
    offers = client.get("/api/v1/engineers/me/offers", headers=engineer).json["items"]
    assert offers[0]["summary"]["contact_mobile"] == MASKED


@pytest.mark.parametrize(
    "actions", [("accept",), ("accept", "en-route"), ("accept", "en-route", "start")]
)
def test_the_assigned_engineer_sees_the_full_mobile_while_the_order_is_open(
    app, client, run_jobs, world, actions
):
    add_address(client, world)
    order_id = created(client, world)
    run_jobs()
    answer = act(app, client, world, order_id, *actions)
    engineer = f.engineer_auth(app, world["engineer"])
    assert answer["contact_mobile"] == MOBILE
    assert seen_by(client, order_id, engineer)["contact_mobile"] == MOBILE
    mine = client.get("/api/v1/me/orders", headers=engineer).json["items"]
    assert mine[0]["contact_mobile"] == MOBILE


def test_the_mobile_is_masked_for_the_engineer_once_the_order_is_completed(
    app, client, run_jobs, world
):
    add_address(client, world)
    order_id = created(client, world)
    run_jobs()
    answer = act(app, client, world, order_id, "accept", "en-route", "start", "complete")
    engineer = f.engineer_auth(app, world["engineer"])
    assert answer["contact_mobile"] == MASKED
    assert seen_by(client, order_id, engineer)["contact_mobile"] == MASKED
    assert seen_by(client, order_id, world["auth"])["contact_mobile"] == MOBILE


def test_the_mobile_is_masked_for_the_engineer_once_the_order_is_cancelled(
    app, client, run_jobs, world
):
    add_address(client, world)
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "accept")
    cancelled = client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["auth"], json={})
    assert cancelled.status_code == 200
    engineer = f.engineer_auth(app, world["engineer"])
    assert seen_by(client, order_id, engineer)["contact_mobile"] == MASKED


def test_managers_and_admins_see_the_mobile_masked_on_an_open_order(app, client, run_jobs, world):
    add_address(client, world)
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "accept")
    for role in ("manager", "admin"):
        staff = f.staff_auth(app, f.staff(app, role), role)
        assert seen_by(client, order_id, staff)["contact_mobile"] == MASKED


def test_an_engineer_who_declined_sees_the_mobile_masked(app, client, run_jobs, world):
    add_address(client, world)
    other = f.engineer(app, communities=(world["here"],), standing=0.1)
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "decline", reason="太远")
    run_jobs()  # offered to the other engineer, who accepts
    accepted = client.post(
        f"/api/v1/orders/{order_id}/accept", headers=f.engineer_auth(app, other), json={}
    )
    assert accepted.status_code == 200, accepted.json
    declined = f.engineer_auth(app, world["engineer"])
    assert seen_by(client, order_id, declined)["contact_mobile"] == MASKED
    assert accepted.json["contact_mobile"] == MOBILE


# ---- what an engineer decides on ----


def test_an_offer_carries_the_summary_an_engineer_decides_on(app, client, run_jobs, world):
    add_address(client, world)
    photo = uploaded(app)
    start = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    order_id = created(
        client,
        world,
        description="出水变慢",
        photos=[photo],
        window_start=start.isoformat(),
        window_end=(start + timedelta(hours=2)).isoformat(),
    )
    run_jobs()
    engineer = f.engineer_auth(app, world["engineer"])
    offer = client.get("/api/v1/engineers/me/offers", headers=engineer).json["items"][0]
    summary = offer["summary"]
    assert offer["order_id"] == order_id
    assert summary["service_name"] == "净水器滤芯更换"
    assert summary["community_name"] == "阳光小区"
    assert summary["community_address"] == "浦东新区XX路88号"
    assert summary["address_text"] == "阳光小区 浦东新区XX路88号 12号楼2单元301室"
    assert (summary["description"], summary["photos"]) == ("出水变慢", [photo])
    assert summary["window_start"] is not None and summary["window_end"] is not None
    assert summary["distance_km"] == pytest.approx(11.12, abs=0.05)
    assert summary["contact_name"] == "张女士"


def test_the_map_link_is_amap_with_gcj02_coordinates_lng_first(client, world):
    order = post_order(client, world).json
    link = urlsplit(order["map_url"])
    query = parse_qs(link.query)
    assert (link.scheme, link.netloc, link.path) == ("https", "uri.amap.com", "/marker")
    assert query["position"] == ["121.4737,31.2304"]
    assert query["coordinate"] == ["gaode"]
    assert query["name"] == ["阳光小区"]
    assert (order["community_lat"], order["community_lng"]) == (31.2304, 121.4737)


def test_a_page_of_offers_costs_the_same_queries_for_one_or_many(app, client, run_jobs, world):
    engineer = f.engineer_auth(app, world["engineer"])
    created(client, world)
    run_jobs()
    client.get("/api/v1/engineers/me/offers", headers=engineer)  # connections opened before
    with counted_statements(app) as one:
        assert client.get("/api/v1/engineers/me/offers", headers=engineer).json["total"] == 1
    for _ in range(4):
        created(client, world)
    run_jobs()
    with counted_statements(app) as five:
        assert client.get("/api/v1/engineers/me/offers", headers=engineer).json["total"] == 5
    assert len(five) == len(one)


def test_a_page_of_my_orders_costs_the_same_queries_for_one_or_many(app, client, run_jobs, world):
    created(client, world)
    run_jobs()  # dispatch done: the in-process worker's statements would be counted too
    client.get("/api/v1/me/orders", headers=world["auth"])  # connections opened before
    with counted_statements(app) as one:
        assert client.get("/api/v1/me/orders", headers=world["auth"]).json["total"] == 1
    for _ in range(4):
        created(client, world)
    run_jobs()
    with counted_statements(app) as five:
        assert client.get("/api/v1/me/orders", headers=world["auth"]).json["total"] == 5
    assert len(five) == len(one)


# ---- completion photos ----


def test_completion_photos_are_kept_on_the_order(app, client, run_jobs, world):
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "accept", "en-route", "start")
    photo = uploaded(app)
    done = act(app, client, world, order_id, "complete", photos=[photo])
    assert done["completion_photos"] == [photo]
    assert seen_by(client, order_id, world["auth"])["completion_photos"] == [photo]


def test_completion_photos_not_uploaded_here_are_refused(app, client, run_jobs, world):
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "accept", "en-route", "start")
    response = client.post(
        f"/api/v1/orders/{order_id}/complete",
        headers=f.engineer_auth(app, world["engineer"]),
        json={"photos": ["https://example.com/x.jpg"]},
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "photo_not_uploaded"
    assert seen_by(client, order_id, world["auth"])["status"] == "in_service"


def test_photos_go_only_with_complete(app, client, run_jobs, world):
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "accept")
    response = client.post(
        f"/api/v1/orders/{order_id}/en-route",
        headers=f.engineer_auth(app, world["engineer"]),
        json={"photos": [uploaded(app)]},
    )
    assert response.status_code == 422
    assert "photos" in response.json["error"]["fields"]
    assert seen_by(client, order_id, world["auth"])["status"] == "accepted"


def test_at_most_nine_completion_photos(app, client, run_jobs, world):
    order_id = created(client, world)
    run_jobs()
    act(app, client, world, order_id, "accept", "en-route", "start")
    response = client.post(
        f"/api/v1/orders/{order_id}/complete",
        headers=f.engineer_auth(app, world["engineer"]),
        json={"photos": [uploaded(app) for _ in range(10)]},
    )
    assert response.status_code == 422
    assert "photos" in response.json["error"]["fields"]

"""Residents' address books: doors in bound communities, one default, a cap, privacy of others'."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import ResidentAddress
from service_hub.addresses.service import MAX_ADDRESSES
from service_hub.plumbing.extensions import db
from tests import factories as f

URL = "/api/v1/me/addresses"


@pytest.fixture
def world(app):
    here = f.community(app, name="阳光小区", district="浦东新区", address="XX路88号")
    resident = f.resident(app, communities=(here,))
    return {"here": here, "resident": resident, "auth": f.resident_auth(app, resident)}


def body(world, **changes) -> dict:
    return {
        "community_id": world["here"],
        "building": "12",
        "unit": "2",
        "room": "301",
        "contact_name": "张女士",
        "mobile": "13800138000",
        **changes,
    }


def add(client, world, **changes):
    return client.post(URL, headers=world["auth"], json=body(world, **changes))


def added(client, world, **changes) -> dict:
    response = add(client, world, **changes)
    assert response.status_code == 201, ("add address", response.json)
    return response.json


def defaults(app, resident_id: int) -> list[int]:
    with app.app_context():
        return db.session.scalars(
            sa.select(ResidentAddress.id).where(
                ResidentAddress.resident_id == resident_id, ResidentAddress.is_default.is_(True)
            )
        ).all()


def stored_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ResidentAddress))


def test_an_address_reads_as_a_chinese_address(client, world):
    address = added(client, world)
    assert address["address_text"] == "阳光小区 浦东新区XX路88号 12号楼2单元301室"
    assert address["community_name"] == "阳光小区"
    assert address["mobile"] == "13800138000"  # my own book: in full


def test_words_the_resident_typed_are_kept_in_the_address(client, world):
    address = added(client, world, building="A座", unit="", room="1202")
    assert address["address_text"].endswith(" A座1202室")


def test_the_first_address_is_the_default(client, world):
    assert added(client, world)["is_default"] is True
    assert added(client, world, room="302")["is_default"] is False


def test_a_new_default_takes_over_from_the_old_one(app, client, world):
    first = added(client, world)
    second = added(client, world, room="302", is_default=True)
    assert defaults(app, world["resident"]) == [second["id"]]
    listed = client.get(URL, headers=world["auth"]).json["items"]
    assert [a["id"] for a in listed] == [second["id"], first["id"]]  # the default first


def test_patch_is_default_makes_an_address_the_default(app, client, world):
    added(client, world)
    second = added(client, world, room="302")
    response = client.patch(
        f"{URL}/{second['id']}", headers=world["auth"], json={"is_default": True}
    )
    assert response.status_code == 200
    assert defaults(app, world["resident"]) == [second["id"]]


def test_the_default_cannot_be_unset_without_another(app, client, world):
    first = added(client, world)
    response = client.patch(
        f"{URL}/{first['id']}", headers=world["auth"], json={"is_default": False}
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "default_required"
    assert response.json["error"]["message_zh"]
    assert defaults(app, world["resident"]) == [first["id"]]


def test_deleting_the_default_makes_another_address_the_default(app, client, world):
    first = added(client, world)
    second = added(client, world, room="302")
    assert client.delete(f"{URL}/{first['id']}", headers=world["auth"]).status_code == 204
    assert defaults(app, world["resident"]) == [second["id"]]


def test_a_resident_edits_an_address(client, world):
    address = added(client, world)
    response = client.patch(
        f"{URL}/{address['id']}", headers=world["auth"], json={"room": "401", "contact_name": "李"}
    )
    assert response.status_code == 200
    assert (response.json["room"], response.json["contact_name"]) == ("401", "李")
    assert response.json["address_text"].endswith("12号楼2单元401室")


def test_an_address_in_a_community_not_bound_is_refused(app, client, world):
    response = add(client, world, community_id=f.community(app))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_bound"
    assert response.json["error"]["message_zh"] == "请先绑定该小区"
    assert stored_count(app) == 0


def test_moving_an_address_to_a_community_not_bound_is_refused(app, client, world):
    address = added(client, world)
    response = client.patch(
        f"{URL}/{address['id']}", headers=world["auth"], json={"community_id": f.community(app)}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_bound"


def test_an_address_in_an_unknown_community_is_404(client, world):
    response = add(client, world, community_id=999999)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "community_not_found"


@pytest.mark.parametrize(
    "mobile", ["12800138000", "1380013800", "138001380001", "1380013800a", "+8613800138000", ""]
)
def test_a_mobile_that_is_not_a_mainland_mobile_is_refused(app, client, world, mobile):
    response = add(client, world, mobile=mobile)
    assert response.status_code == 422
    assert "mobile" in response.json["error"]["fields"]
    assert stored_count(app) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("building", "1" * 17),
        ("building", "   "),
        ("unit", "2" * 17),
        ("room", ""),
        ("room", "3" * 17),
        ("contact_name", "名" * 33),
        ("contact_name", " "),
    ],
)
def test_text_beyond_its_column_or_blank_is_refused(app, client, world, field, value):
    response = add(client, world, **{field: value})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert stored_count(app) == 0


def test_a_required_field_missing_is_refused(client, world):
    payload = body(world)
    del payload["contact_name"]
    response = client.post(URL, headers=world["auth"], json=payload)
    assert response.status_code == 422
    assert "contact_name" in response.json["error"]["fields"]


def test_an_unknown_field_is_refused(client, world):
    response = add(client, world, province="上海")
    assert response.status_code == 422


def test_a_bad_mobile_in_a_patch_is_refused_and_nothing_changes(client, world):
    address = added(client, world)
    response = client.patch(f"{URL}/{address['id']}", headers=world["auth"], json={"mobile": "1"})
    assert response.status_code == 422
    listed = client.get(URL, headers=world["auth"]).json["items"]
    assert listed[0]["mobile"] == "13800138000"


def test_an_address_book_is_capped(app, client, world):
    for room in range(MAX_ADDRESSES):
        added(client, world, room=str(100 + room))
    response = add(client, world, room="999")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "too_many_addresses"
    assert response.json["error"]["message_zh"]
    assert stored_count(app) == MAX_ADDRESSES


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_another_residents_address_does_not_exist_for_me(app, client, world, method):
    address = added(client, world)
    neighbour = f.resident_auth(app, f.resident(app, communities=(world["here"],)))
    response = getattr(client, method)(
        f"{URL}/{address['id']}", headers=neighbour, json={"room": "1"}
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "address_not_found"
    assert client.get(URL, headers=world["auth"]).json["items"][0]["room"] == "301"


def test_a_resident_lists_only_their_own_addresses(app, client, world):
    added(client, world)
    neighbour = f.resident_auth(app, f.resident(app, communities=(world["here"],)))
    assert client.get(URL, headers=neighbour).json["total"] == 0


def test_the_list_filters_by_community(app, client, world):
    there = f.community(app)
    with app.app_context():
        from models import CommunityBinding

        db.session.add(CommunityBinding(resident_id=world["resident"], community_id=there))
        db.session.commit()
    added(client, world)
    elsewhere = added(client, world, community_id=there)
    page = client.get(URL, headers=world["auth"], query_string={"community_id": there}).json
    assert [a["id"] for a in page["items"]] == [elsewhere["id"]]


def test_an_address_in_a_community_unbound_later_is_listed_as_not_bound(client, world):
    added(client, world)
    client.delete(f"/api/v1/me/communities/{world['here']}", headers=world["auth"])
    listed = client.get(URL, headers=world["auth"]).json["items"]
    assert [a["bound"] for a in listed] == [False]


@pytest.mark.parametrize("role", ["engineer", "manager", "admin"])
def test_staff_have_no_address_book(app, client, world, role):
    if role == "engineer":
        headers = f.engineer_auth(app, f.engineer(app))
    else:
        headers = f.staff_auth(app, f.staff(app, role), role)
    assert client.get(URL, headers=headers).status_code == 403
    assert client.post(URL, headers=headers, json=body(world)).status_code == 403


def test_a_stranger_must_sign_in(client, world):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=body(world)).status_code == 401

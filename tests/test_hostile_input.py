"""Hostile input gets a clear 4xx in the one error shape, never a 500, and stores nothing;
hostile text that is valid input is stored verbatim and handed back as data."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import Question, Resident, ServiceOrder
from service_hub.plumbing.extensions import db
from tests import factories as f

ORDERS = "/api/v1/orders"


@dataclass
class World:
    community: int
    service_type: int
    resident: int
    engineer: int
    resident_auth: dict
    engineer_auth: dict
    manager_auth: dict


@pytest.fixture
def world(app) -> World:
    """A community in 上海市 with a bound resident, a serving engineer and a manager."""
    community = f.community(app)
    resident = f.resident(app, communities=(community,))
    engineer = f.engineer(app, communities=(community,))
    return World(
        community=community,
        service_type=f.service_type(app),
        resident=resident,
        engineer=engineer,
        resident_auth=f.resident_auth(app, resident),
        engineer_auth=f.engineer_auth(app, engineer),
        manager_auth=f.staff_auth(app, f.staff(app, "manager"), "manager"),
    )


def _order(world: World, **fields) -> dict:
    return {"community_id": world.community, "service_type_id": world.service_type, **fields}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _error(response, status: int) -> dict:
    """The error of a JSON error answer with this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.json["error"]


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# --- oversized and malformed bodies ------------------------------------------------------


def test_a_body_over_the_size_limit_is_a_json_413_and_stores_nothing(
    app, client, world, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    body = _order(world, description="漏水" * 1000)
    response = client.post(ORDERS, headers=world.resident_auth, json=body)
    assert _error(response, 413)["code"] == "request_entity_too_large"
    assert _count(app, ServiceOrder) == 0


def test_a_body_over_the_default_limit_is_refused_unread(app, client, world):
    too_big = b" " * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        ORDERS, headers=world.resident_auth, data=too_big, content_type="application/json"
    )
    assert _error(response, 413)["code"] == "request_entity_too_large"


def test_malformed_json_is_a_400_malformed_request_and_stores_nothing(app, client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data=f'{{"community_id": {world.community}, "service_type_id": ',
        content_type="application/json",
    )
    assert _error(response, 400)["code"] == "malformed_request"
    assert _count(app, ServiceOrder) == 0


def test_a_json_body_that_is_not_utf8_is_a_400_malformed_request(client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data=b'{"description": "\xff\xfe\xfd"}',
        content_type="application/json",
    )
    assert _error(response, 400)["code"] == "malformed_request"


def test_json_nested_too_deeply_is_a_400_not_a_500(client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
    )
    assert _error(response, 400)["code"] == "malformed_request"


def test_a_json_body_that_is_not_an_object_is_a_422(client, world):
    response = client.post(ORDERS, headers=world.resident_auth, json=[world.community])
    assert _error(response, 422)["code"] == "validation_error"


# --- wrong content types -----------------------------------------------------------------


def test_a_text_plain_body_to_a_json_route_is_a_415_and_stores_nothing(app, client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data=f'{{"community_id": {world.community}, "service_type_id": {world.service_type}}}',
        content_type="text/plain",
    )
    error = _error(response, 415)
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["message"]
    assert _count(app, ServiceOrder) == 0


def test_an_xml_body_to_a_json_route_is_a_415(client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data="<order><community_id>1</community_id></order>",
        content_type="application/xml",
    )
    assert _error(response, 415)["code"] == "unsupported_media_type"


def test_a_form_to_a_json_route_is_a_422_naming_the_missing_fields(app, client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data={"community_id": str(world.community), "service_type_id": str(world.service_type)},
        content_type="application/x-www-form-urlencoded",
    )
    assert set(_error(response, 422)["fields"]) == {"community_id", "service_type_id"}
    assert _count(app, ServiceOrder) == 0


def test_a_body_without_a_content_type_is_a_415(client, world):
    response = client.post(ORDERS, headers=world.resident_auth, data=b'{"community_id": 1}')
    assert _error(response, 415)["code"] == "unsupported_media_type"


def test_multipart_to_a_json_route_is_a_422_naming_the_missing_fields(client, world):
    response = client.post(
        ORDERS,
        headers=world.resident_auth,
        data={"file": (io.BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert set(_error(response, 422)["fields"]) == {"community_id", "service_type_id"}


def test_json_to_the_upload_route_is_a_422_naming_the_file_field(client, world):
    response = client.post("/api/v1/uploads", headers=world.resident_auth, json={"file": "x"})
    assert set(_error(response, 422)["fields"]) == {"file"}


# --- huge and nonsensical pages ----------------------------------------------------------

LISTS = ("/api/v1/services", "/api/v1/me/orders", "/api/v1/me/inbox")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page_size", "100000"),
        ("page", str(10**9)),
        ("page", "0"),
        ("page_size", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "99999999999999999999999"),
    ],
)
def test_a_page_out_of_bounds_is_a_422_naming_the_parameter(client, world, path, name, value):
    response = client.get(path, headers=world.resident_auth, query_string={name: value})
    assert set(_error(response, 422)["fields"]) == {name}


def test_the_last_allowed_page_of_the_largest_size_is_answered(client, world):
    response = client.get(
        "/api/v1/me/orders",
        headers=world.resident_auth,
        query_string={"page": 10_000, "page_size": 100},
    )
    assert response.status_code == 200
    assert response.json["items"] == []


# --- injection strings in text fields ----------------------------------------------------

HOSTILE_TEXT = {
    "sql_quote": "'; DROP TABLE service_order; --",
    "sql_union": "1' UNION SELECT password_hash FROM staff_user --",
    "script": "<script>alert('x')</script>",
    "img_onerror": '<img src=x onerror="alert(document.cookie)">',
    "template": "{{7*7}} ${7*7} %s%n {0.__class__}",
}


def _completed_order(client, world: World, run_jobs) -> int:
    created = client.post(ORDERS, headers=world.resident_auth, json=_order(world))
    assert created.status_code == 201, ("create order", created.json)
    order_id = created.json["id"]
    run_jobs()
    for action in ("accept", "en-route", "start", "complete"):
        response = client.post(
            f"{ORDERS}/{order_id}/{action}", headers=world.engineer_auth, json={}
        )
        assert response.status_code == 200, (action, response.json)
    return order_id


def _write_order_description(client, world, text, run_jobs):
    created = client.post(ORDERS, headers=world.resident_auth, json=_order(world, description=text))
    read = client.get(f"{ORDERS}/{created.json['id']}", headers=world.resident_auth)
    return created, [read.json["description"]]


def _write_question(client, world, text, run_jobs):
    path = f"/api/v1/communities/{world.community}/questions"
    created = client.post(path, headers=world.resident_auth, json={"text": text})
    return created, [client.get(path).json["items"][0]["text"]]


def _write_answer(client, world, text, run_jobs):
    path = f"/api/v1/communities/{world.community}/questions"
    question = client.post(path, headers=world.resident_auth, json={"text": "滤芯多久换？"})
    assert question.status_code == 201, ("ask the question to answer", question.json)
    answers = f"/api/v1/questions/{question.json['id']}/answers"
    created = client.post(answers, headers=world.engineer_auth, json={"text": text})
    return created, [client.get(answers).json["items"][0]["text"]]


def _write_review(client, world, text, run_jobs):
    order_id = _completed_order(client, world, run_jobs)
    created = client.post(
        f"{ORDERS}/{order_id}/review",
        headers=world.resident_auth,
        json={"rating": 4, "text": text},
    )
    listed = client.get(f"/api/v1/engineers/{world.engineer}/reviews").json["items"]
    return created, [listed[0]["text"]]


def _write_activity(client, world, text, run_jobs):
    created = client.post(
        f"/api/v1/communities/{world.community}/activities",
        headers=world.manager_auth,
        json={
            "title": text,
            "description": text,
            "place": text,
            "starts_at": _in(3),
            "ends_at": _in(3.1),
            "capacity": 10,
        },
    )
    read = client.get(f"/api/v1/activities/{created.json['id']}").json
    return created, [read["title"], read["description"], read["place"]]


def _write_nickname(client, world, text, run_jobs):
    created = client.patch("/api/v1/me", headers=world.resident_auth, json={"nickname": text})
    return created, [client.get("/api/v1/me", headers=world.resident_auth).json["nickname"]]


def _write_engineer_bio(client, world, text, run_jobs):
    created = client.patch("/api/v1/engineers/me", headers=world.engineer_auth, json={"bio": text})
    read = client.get(f"/api/v1/engineers/{world.engineer}").json
    return created, [read["engineer"]["bio"]]


def _write_visit_note(client, world, text, run_jobs):
    created = client.post(
        "/api/v1/engineers/me/visits",
        headers=world.engineer_auth,
        json={
            "community_id": world.community,
            "starts_at": _in(2),
            "ends_at": _in(2.1),
            "note": text,
            "slots": [{"starts_at": _in(2), "ends_at": _in(2.05)}],
        },
    )
    listed = client.get(f"/api/v1/communities/{world.community}/visits").json["items"]
    return created, [listed[0]["note"]]


Writer = Callable[..., tuple]
WRITERS: dict[str, Writer] = {
    "order description": _write_order_description,
    "question text": _write_question,
    "answer text": _write_answer,
    "review text": _write_review,
    "activity title, description and place": _write_activity,
    "resident nickname": _write_nickname,
    "engineer bio": _write_engineer_bio,
    "visit note": _write_visit_note,
}


@pytest.mark.parametrize("payload", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_hostile_text_is_stored_verbatim_and_returned_as_data(
    app, client, world, run_jobs, writer, payload
):
    created, stored = writer(client, world, payload, run_jobs)
    assert created.status_code in (200, 201), created.get_data(as_text=True)
    assert created.mimetype == "application/json"
    assert stored == [payload] * len(stored)
    # The tables the payloads name are still there and still answer.
    assert _count(app, ServiceOrder) >= 0 and _count(app, Resident) >= 1


def test_sql_in_a_filter_matches_nothing_rather_than_everything(app, client, world):
    f.community(app, province="北京市", city="北京市", district="朝阳区")
    kpis = "/api/v1/kpis/communities"
    everyone = client.get(kpis, headers=world.manager_auth).json["total"]
    injected = client.get(kpis, headers=world.manager_auth, query_string={"region": "' OR '1'='1"})
    assert (everyone, injected.status_code, injected.json["total"]) == (2, 200, 0)


def test_a_refused_write_with_hostile_text_stores_nothing(app, client, world):
    body = _order(world, description=HOSTILE_TEXT["sql_quote"], service_type_id=999_999)
    response = client.post(ORDERS, headers=world.resident_auth, json=body)
    assert _error(response, 422)["fields"] == {"service_type_id": ["unknown"]}
    assert _count(app, ServiceOrder) == 0


def test_a_question_refused_to_a_stranger_stores_nothing(app, client, world):
    stranger = f.resident_auth(app, f.resident(app))
    response = client.post(
        f"/api/v1/communities/{world.community}/questions",
        headers=stranger,
        json={"text": HOSTILE_TEXT["script"]},
    )
    assert _error(response, 403)["code"] == "not_bound"
    assert _count(app, Question) == 0


# --- unicode edge cases ------------------------------------------------------------------

UNICODE_TEXT = {
    "emoji": "修好了👍🏻 👨‍🔧 🇨🇳",
    "rtl": "مرحبا \u202eevil\u202c שלום",
    "combining": "e\u0301\u0301\u0301 ZA\u0336L\u0336G\u0336O",
    "zero_width": "a\u200b\u200c\u200d\ufeffb",
    "astral_cjk": "𠮷野家 𪚥",
}


@pytest.mark.parametrize("text", UNICODE_TEXT.values(), ids=UNICODE_TEXT.keys())
def test_unusual_unicode_is_stored_verbatim(client, world, text):
    created = client.post(ORDERS, headers=world.resident_auth, json=_order(world, description=text))
    assert created.status_code == 201
    read = client.get(f"{ORDERS}/{created.json['id']}", headers=world.resident_auth)
    assert read.json["description"] == text


def test_a_length_limit_counts_characters_so_64_emoji_fit(client, world):
    nickname = "😀" * 64
    response = client.patch("/api/v1/me", headers=world.resident_auth, json={"nickname": nickname})
    assert (response.status_code, response.json["nickname"]) == (200, nickname)


def test_one_character_past_a_length_limit_is_a_422(client, world):
    response = client.patch("/api/v1/me", headers=world.resident_auth, json={"nickname": "😀" * 65})
    assert set(_error(response, 422)["fields"]) == {"nickname"}


# JSON escapes for text no database stores the same way: sent raw, as a client would
# (a lone surrogate cannot even be encoded to UTF-8 by a well-behaved client library).
UNSTORABLE = {"nul": "\\u0000", "lone_surrogate": "\\ud800"}


@pytest.mark.parametrize("escape", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_text_in_an_order_is_a_422_naming_the_field(app, client, world, escape):
    data = (
        f'{{"community_id": {world.community}, "service_type_id": {world.service_type}, '
        f'"description": "bad {escape} here"}}'
    )
    response = client.post(
        ORDERS, headers=world.resident_auth, data=data, content_type="application/json"
    )
    assert set(_error(response, 422)["fields"]) == {"description"}
    assert _count(app, ServiceOrder) == 0


@pytest.mark.parametrize("escape", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_text_in_a_question_is_a_422_and_stores_nothing(app, client, world, escape):
    response = client.post(
        f"/api/v1/communities/{world.community}/questions",
        headers=world.resident_auth,
        data=f'{{"text": "bad {escape} here"}}',
        content_type="application/json",
    )
    assert set(_error(response, 422)["fields"]) == {"text"}
    assert _count(app, Question) == 0


def test_unstorable_text_in_a_nested_field_names_its_path(client, world):
    response = client.post(
        "/api/v1/engineers/me/visits",
        headers=world.engineer_auth,
        json={
            "community_id": world.community,
            "starts_at": _in(2),
            "ends_at": _in(2.1),
            "slots": [{"starts_at": _in(2), "ends_at": _in(2.05), "x\u0000": 1}],
        },
    )
    assert set(_error(response, 422)["fields"]) == {"slots.0.x\u0000"}


def test_a_nul_in_a_query_string_is_never_a_500(client, world):
    response = client.get(
        "/api/v1/kpis/communities", headers=world.manager_auth, query_string={"region": "a\x00b"}
    )
    assert response.status_code < 500 and response.mimetype == "application/json"


# --- ids out of range --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders/99999999999999999999",
        "/api/v1/orders/2147483648",
        "/api/v1/orders/-1",
        "/api/v1/communities/99999999999999999999",
        "/api/v1/engineers/99999999999999999999/reviews",
    ],
)
def test_an_id_out_of_range_in_a_path_is_a_json_404(client, world, path):
    assert _error(client.get(path, headers=world.resident_auth), 404)["code"] == "not_found"


def test_the_largest_id_a_path_takes_is_looked_up(client, world):
    response = client.get("/api/v1/orders/2147483647", headers=world.resident_auth)
    assert _error(response, 404)["code"] == "order_not_found"


@pytest.mark.parametrize("community_id", [2**31, 2**63, 2**64, 10**30])
def test_an_id_out_of_range_in_a_body_is_a_4xx_and_stores_nothing(app, client, world, community_id):
    body = _order(world, community_id=community_id)
    response = client.post(ORDERS, headers=world.resident_auth, json=body)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.json["error"]["code"]
    assert _count(app, ServiceOrder) == 0


def test_a_negative_id_in_a_body_is_a_422_naming_the_field(client, world):
    response = client.post(ORDERS, headers=world.resident_auth, json=_order(world, community_id=-5))
    assert set(_error(response, 422)["fields"]) == {"community_id"}


def test_an_id_out_of_range_in_a_query_string_is_a_4xx(client, world):
    response = client.get(
        "/api/v1/broadcasts",
        headers=world.manager_auth,
        query_string={"community_id": str(10**30)},
    )
    assert 400 <= response.status_code < 500 and response.json["error"]["code"]

"""One query style everywhere: parameters an operation does not document are refused (422),
and the list filters the mini-program's screens need (my orders by status, my coupons by
state) exist and filter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Coupon, ServiceOrder
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.query_guard import openapi_path
from tests import factories as f
from tests.test_coupons_support import claim, create_campaign, manager


def _unknown(response) -> dict:
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    return error


def test_an_unknown_parameter_on_a_list_is_a_422_naming_it(client):
    error = _unknown(client.get("/api/v1/services?page_size=3&colour=blue"))
    assert error["fields"] == {"colour": ["Unknown parameter."]}


def test_an_unknown_parameter_on_a_route_that_takes_none_is_a_422(app, client):
    community_id = f.community(app)
    error = _unknown(client.get(f"/api/v1/communities/{community_id}?expand=all"))
    assert list(error["fields"]) == ["expand"]


def test_an_unknown_parameter_on_a_write_is_a_422(app, client):
    response = client.post("/api/v1/auth/staff-login?debug=1", json={"login": "x", "password": "y"})
    assert list(_unknown(response)["fields"]) == ["debug"]


def test_the_refusal_says_in_chinese_which_parameter(client):
    error = _unknown(client.get("/api/v1/services?colour=blue"))
    assert error["message_zh"] == "不支持的查询参数：colour"


def test_documented_parameters_pass(client):
    response = client.get("/api/v1/services?page=1&page_size=3")
    assert response.status_code == 200
    assert response.json["page_size"] == 3


def test_an_unknown_parameter_on_an_unknown_route_is_still_a_404(client):
    assert client.get("/api/v1/no-such-thing?colour=blue").status_code == 404


def test_the_health_checks_refuse_unknown_parameters_too(client):
    assert client.get("/healthz?verbose=1").status_code == 422


def test_flask_rules_become_the_document_s_paths():
    assert openapi_path("/api/v1/orders/<int:order_id>/<string:action>") == (
        "/api/v1/orders/{order_id}/{action}"
    )


# --- GET /me/orders?status= ------------------------------------------------------------------


@pytest.fixture
def orders(app):
    """A resident's orders in three states, all assigned to one engineer: {status: id}."""
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    engineer_id = f.engineer(app, communities=(community_id,))
    service_id = f.service_type(app)
    ids = {}
    with app.app_context():
        for status in ("accepted", "completed", "cancelled"):
            order = ServiceOrder(
                resident_id=resident_id,
                community_id=community_id,
                service_type_id=service_id,
                engineer_id=engineer_id,
                status=status,
            )
            db.session.add(order)
            db.session.flush()
            ids[status] = order.id
        db.session.commit()
    return {
        "ids": ids,
        "resident": f.resident_auth(app, resident_id),
        "engineer": f.engineer_auth(app, engineer_id),
    }


def _my_order_ids(client, auth: dict, query: str) -> set[int]:
    response = client.get(f"/api/v1/me/orders{query}", headers=auth)
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def test_my_orders_filter_by_one_status(client, orders):
    ids = orders["ids"]
    assert _my_order_ids(client, orders["resident"], "?status=completed") == {ids["completed"]}


def test_my_orders_filter_by_several_statuses(client, orders):
    ids = orders["ids"]
    got = _my_order_ids(client, orders["resident"], "?status=accepted,cancelled")
    assert got == {ids["accepted"], ids["cancelled"]}


def test_an_engineer_s_orders_filter_by_status_too(client, orders):
    ids = orders["ids"]
    assert _my_order_ids(client, orders["engineer"], "?status=accepted") == {ids["accepted"]}


def test_my_orders_without_a_status_are_all_of_them(client, orders):
    assert _my_order_ids(client, orders["resident"], "") == set(orders["ids"].values())


def test_an_unknown_order_status_is_a_422(client, orders):
    response = client.get("/api/v1/me/orders?status=finished", headers=orders["resident"])
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["status"]


# --- GET /me/coupons?state= ------------------------------------------------------------------


@pytest.fixture
def coupons(app, client):
    """A resident with one coupon available and one expired: (auth, available id, expired id)."""
    community_id = f.community(app)
    auth = f.resident_auth(app, f.resident(app, communities=(community_id,)))
    boss = manager(app)
    kept = claim(client, auth, create_campaign(client, boss)["id"]).json["id"]
    lapsed = claim(client, auth, create_campaign(client, boss)["id"]).json["id"]
    with app.app_context():
        db.session.get(Coupon, lapsed).valid_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    return auth, kept, lapsed


def _my_coupon_ids(client, auth: dict, state: str) -> set[int]:
    response = client.get(f"/api/v1/me/coupons?state={state}", headers=auth)
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def test_my_coupons_filter_by_the_state_their_items_show(client, coupons):
    auth, kept, _ = coupons
    assert _my_coupon_ids(client, auth, "available") == {kept}


def test_my_coupons_filter_by_several_states(client, coupons):
    auth, kept, lapsed = coupons
    assert _my_coupon_ids(client, auth, "available,expired") == {kept, lapsed}


def test_an_unknown_coupon_state_is_a_422(client, coupons):
    auth, _, _ = coupons
    response = client.get("/api/v1/me/coupons?state=used", headers=auth)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["state"]

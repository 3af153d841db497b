"""Every error carries message_zh, in Chinese: the mini-program shows it as it is.

One representative error of each status the API answers, in the one error shape."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import TooManyRequests

from models import ServiceOrder
from service_hub.plumbing.errors import handle_http_exception
from service_hub.plumbing.extensions import db
from tests import factories as f

STAFF_LOGIN = "/api/v1/auth/staff-login"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def world(app):
    """A resident with a completed order (version 1) in their community, and a manager."""
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    with app.app_context():
        order = ServiceOrder(
            resident_id=resident_id,
            community_id=community_id,
            service_type_id=f.service_type(app),
            status="completed",
        )
        db.session.add(order)
        db.session.commit()
        order_id = order.id
    return {
        "community_id": community_id,
        "order_id": order_id,
        "resident": f.resident_auth(app, resident_id),
    }


def _bad_json(client, world):
    return client.post(STAFF_LOGIN, data="{bad", content_type="application/json")


def _no_token(client, world):
    return client.get("/api/v1/me/inbox")


def _wrong_role(client, world):
    return client.get("/api/v1/kpis/communities", headers=world["resident"])


def _unknown_route(client, world):
    return client.get("/api/v1/no-such-thing")


def _unknown_order(client, world):
    return client.get("/api/v1/orders/999999", headers=world["resident"])


def _wrong_method(client, world):
    return client.get(STAFF_LOGIN)


def _illegal_transition(client, world):
    order_id = world["order_id"]
    return client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["resident"], json={})


def _stale_version(client, world):
    return client.post(
        f"/api/v1/orders/{world['order_id']}/cancel",
        headers={**world["resident"], "If-Match": '"99"'},
        json={},
    )


def _too_large(client, world):
    config = client.application.config
    before, config["MAX_CONTENT_LENGTH"] = config["MAX_CONTENT_LENGTH"], 64
    try:
        return client.post(STAFF_LOGIN, json={"login": "x" * 100, "password": "whatever"})
    finally:
        config["MAX_CONTENT_LENGTH"] = before


def _not_json(client, world):
    return client.post(STAFF_LOGIN, data="login=x", content_type="text/plain")


def _missing_field(client, world):
    return client.post(STAFF_LOGIN, json={"login": "someone"})


def _unknown_parameter(client, world):
    return client.get("/api/v1/services?colour=blue")


def _rate_limited(client, world):
    limits = client.application.config["RATE_LIMITS"]
    before = limits["login"]
    limits["login"] = "1 per minute"
    try:
        client.post(STAFF_LOGIN, json={"login": "nobody", "password": "wrong"})
        return client.post(STAFF_LOGIN, json={"login": "nobody", "password": "wrong"})
    finally:
        limits["login"] = before


def _wechat_busy(client, world):
    return client.post("/api/v1/auth/wechat-login", json={"code": "err-1-x"})


CASES = [
    (400, _bad_json),
    (401, _no_token),
    (403, _wrong_role),
    (404, _unknown_route),
    (404, _unknown_order),
    (405, _wrong_method),
    (409, _illegal_transition),
    (412, _stale_version),
    (413, _too_large),
    (415, _not_json),
    (422, _missing_field),
    (422, _unknown_parameter),
    (429, _rate_limited),
    (503, _wechat_busy),
]


@pytest.mark.parametrize(("status", "call"), CASES, ids=[c.__name__.strip("_") for _, c in CASES])
def test_every_error_status_carries_a_chinese_message(client, world, status, call):
    response = call(client, world)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert CJK.search(error["message_zh"]), error


def test_the_limiter_s_own_refusal_is_not_shown_as_its_limit(app):
    """Flask-Limiter describes its 429 as the limit ("20 per 1 minute"): never shown."""
    with app.test_request_context(STAFF_LOGIN, method="POST"):
        response, status = handle_http_exception(TooManyRequests(description="20 per 1 minute"))
    error = response.json["error"]
    assert (status, error["message_zh"]) == (429, "请求过于频繁，请稍后再试")
    assert "per 1 minute" not in error["message"]

"""Rate limits: a clear 429 in the one error shape, with Retry-After."""

import secrets

import pytest


@pytest.fixture
def tight(app, monkeypatch):
    monkeypatch.setitem(
        app.config, "RATE_LIMITS", {**app.config["RATE_LIMITS"], "login": "3 per minute"}
    )


def test_too_many_logins_get_429_with_retry_after(app, client, tight):
    statuses = [
        client.post(
            "/api/v1/auth/staff-login", json={"login": "nobody", "password": "wrong-pass"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    response = client.post("/api/v1/auth/staff-login", json={"login": "x", "password": "y"})
    assert response.json["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) > 0


def test_wechat_login_is_limited_too(app, client, tight):
    statuses = [
        client.post("/api/v1/auth/wechat-login", json={"code": f"u{n}:1"}).status_code
        for n in range(4)
    ]
    assert statuses[-1] == 429


def test_uploads_are_limited_per_caller(app, client, monkeypatch):
    from tests import factories as f

    monkeypatch.setitem(
        app.config, "RATE_LIMITS", {**app.config["RATE_LIMITS"], "upload": "2 per minute"}
    )
    auth = f.resident_auth(app, f.resident(app))
    statuses = [client.post("/api/v1/uploads", headers=auth, data={}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/auth/staff-login", lambda n: {"login": "admin", "password": f"guess-{n}"}),
        ("/api/v1/auth/wechat-login", lambda n: {"code": f"u{n}:1"}),
    ],
    ids=["staff-login", "wechat-login"],
)
def test_a_made_up_bearer_token_per_request_does_not_escape_the_limit(client, tight, path, body):
    statuses = [
        client.post(
            path, json=body(n), headers={"Authorization": f"Bearer {secrets.token_urlsafe(40)}"}
        ).status_code
        for n in range(4)
    ]
    assert statuses[-1] == 429


def test_callers_with_valid_tokens_at_one_address_have_their_own_buckets(app, client, monkeypatch):
    from tests import factories as f

    monkeypatch.setitem(
        app.config, "RATE_LIMITS", {**app.config["RATE_LIMITS"], "upload": "2 per minute"}
    )
    first, second = (f.resident_auth(app, f.resident(app)) for _ in range(2))
    for _ in range(2):
        client.post("/api/v1/uploads", headers=first, data={})
    assert client.post("/api/v1/uploads", headers=first, data={}).status_code == 429
    assert client.post("/api/v1/uploads", headers=second, data={}).status_code == 422

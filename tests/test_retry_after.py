"""Retry-After: only on throttled (429) and unavailable (503) answers, with their own value."""

WECHAT_LOGIN = "/api/v1/auth/wechat-login"
STAFF_LOGIN = "/api/v1/auth/staff-login"


def test_wechat_busy_says_retry_after_2_seconds(client):
    response = client.post(WECHAT_LOGIN, json={"code": "err-1-x"})
    assert (response.status_code, response.json["error"]["code"]) == (503, "wechat_busy")
    assert response.headers["Retry-After"] == "2"


def test_a_successful_sign_in_has_no_retry_after(client):
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 200
    assert "Retry-After" not in response.headers


def test_a_domain_429_keeps_its_own_retry_after(app, client, monkeypatch):
    from tests import factories as f

    monkeypatch.setitem(app.config, "BUTLER_MAX_OPEN_CODES", 1)
    monkeypatch.setitem(app.config, "BUTLER_CODE_TTL_SECONDS", 20)
    auth = f.engineer_auth(app, f.engineer(app))
    assert client.post("/api/v1/engineers/me/bind-codes", headers=auth).status_code == 201
    response = client.post("/api/v1/engineers/me/bind-codes", headers=auth)
    assert (response.status_code, response.json["error"]["code"]) == (429, "bind_codes_limit")
    assert 0 < int(response.headers["Retry-After"]) <= 21


def test_a_rate_limit_429_says_when_its_window_frees(app, client, monkeypatch):
    monkeypatch.setitem(
        app.config, "RATE_LIMITS", {**app.config["RATE_LIMITS"], "login": "2 per hour"}
    )
    for _ in range(2):
        client.post(STAFF_LOGIN, json={"login": "nobody", "password": "wrong-pass"})
    response = client.post(STAFF_LOGIN, json={"login": "nobody", "password": "wrong-pass"})
    assert (response.status_code, response.json["error"]["code"]) == (429, "too_many_requests")
    assert response.json["error"]["message_zh"]
    assert 60 < int(response.headers["Retry-After"]) <= 3600

"""Every error answers in the one JSON shape: {"error": {"code", "message", ...}}."""

import pytest

from service_hub import create_app

STAFF_LOGIN = "/api/v1/auth/staff-login"


def _error(response) -> dict:
    """The error body, after checking it is JSON in the one shape."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "message_zh", "fields", "details", "request_id"}
    assert isinstance(error["request_id"], str) and error["request_id"]  # to quote when asking
    return error


def test_an_unknown_route_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_a_path_parameter_of_the_wrong_type_is_a_json_404(client):
    response = client.get("/api/v1/orders/not-a-number")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405_with_an_allow_header(client):
    response = client.get(STAFF_LOGIN)
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_a_malformed_json_body_is_a_400_malformed_request(client):
    response = client.post(STAFF_LOGIN, data="{bad", content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_request"


def test_a_missing_field_is_a_422_naming_the_field(client):
    response = client.post(STAFF_LOGIN, json={"login": "someone"})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"password"}
    assert error["message_zh"]


def test_an_unknown_extra_field_is_a_422_naming_the_field(client):
    response = client.post(
        STAFF_LOGIN, json={"login": "someone", "password": "whatever", "is_admin": True}
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"is_admin"}


def test_a_body_that_is_not_an_object_is_a_422(client):
    response = client.post(STAFF_LOGIN, json=["someone", "whatever"])
    assert response.status_code == 422
    assert _error(response)["code"] == "validation_error"


def test_a_body_over_the_size_limit_is_a_json_413(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64)
    response = client.post(STAFF_LOGIN, json={"login": "x" * 100, "password": "whatever"})
    assert response.status_code == 413
    assert _error(response)["code"] == "request_entity_too_large"


def test_a_domain_error_keeps_its_code_and_chinese_message(client):
    response = client.get("/api/v1/me/inbox")
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "auth_required"
    assert error["message_zh"] == "请先登录"


@pytest.fixture
def exploding_client(app):
    """A client of a fresh app with a route that raises an unexpected exception."""
    broken = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": None,
        }
    )
    broken.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("kaboom: secret internals at /srv/service_hub/views.py line 42")

    broken.add_url_rule("/api/v1/explode", "explode", explode)
    return broken.test_client()


def test_an_unexpected_exception_is_a_json_500_internal_error(exploding_client):
    response = exploding_client.get("/api/v1/explode")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert error["message_zh"]


def test_an_unexpected_exception_shows_no_traceback_or_exception_text(exploding_client):
    text = exploding_client.get("/api/v1/explode").get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "kaboom", "views.py", "line 42"):
        assert leak not in text


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/", {}),
        ("get", "/api/v1/no-such-thing", {}),
        ("delete", STAFF_LOGIN, {}),
        ("post", STAFF_LOGIN, {"data": "{bad", "content_type": "application/json"}),
        ("post", STAFF_LOGIN, {"json": {}}),
        ("post", STAFF_LOGIN, {"data": "login=x&password=y"}),
        ("get", "/api/v1/kpis/communities", {}),
    ],
)
def test_error_responses_are_never_html(client, method, path, kwargs):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code >= 400
    assert "text/html" not in response.content_type
    _error(response)


def test_an_unexpected_exception_is_never_html(exploding_client):
    response = exploding_client.get("/api/v1/explode")
    assert "text/html" not in response.content_type

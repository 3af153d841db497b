"""Sign-in through (fake) WeChat and by password, tokens, and role checks on routes."""

from datetime import timedelta

import jwt
import pytest

from models import Resident, StaffUser
from models.base import utcnow
from service_hub.auth.tokens import ALGORITHM, AUDIENCE, ISSUER
from service_hub.plumbing.extensions import db
from tests import factories as f

WECHAT_LOGIN = "/api/v1/auth/wechat-login"
STAFF_LOGIN = "/api/v1/auth/staff-login"
INBOX = "/api/v1/me/inbox"
KPIS = "/api/v1/kpis/communities"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _claims(**overrides) -> dict:
    now = utcnow()
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(overrides.pop("subject_id")),
        "kind": "resident",
        "role": "resident",
        "iat": now,
        "exp": now + timedelta(hours=1),
        **overrides,
    }


def _crafted(app, key: str | None = None, **claims) -> dict:
    token = jwt.encode(_claims(**claims), key or app.config["SECRET_KEY"], ALGORITHM)
    return _bearer(token)


# WeChat sign-in


def test_first_wechat_login_creates_a_resident_and_returns_a_resident_token(app, client):
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 200
    body = response.json
    assert body["role"] == "resident"
    assert body["expires_in"] == app.config["TOKEN_TTL_SECONDS"]
    with app.app_context():
        assert db.session.get(Resident, body["resident_id"]) is not None
    assert client.get(INBOX, headers=_bearer(body["token"])).status_code == 200


def test_the_resident_is_stored_under_the_openid_wechat_gives(app, client, fake_wechat):
    resident_id = client.post(WECHAT_LOGIN, json={"code": "bob:1"}).json["resident_id"]
    with app.app_context():
        resident = db.session.get(Resident, resident_id)
        assert resident.openid == fake_wechat.state.openid_for("bob")
        assert resident.last_login_at is not None


def test_logging_in_again_as_the_same_user_returns_the_same_resident(client):
    first = client.post(WECHAT_LOGIN, json={"code": "bob:1"}).json
    second = client.post(WECHAT_LOGIN, json={"code": "bob:2"}).json
    assert second["resident_id"] == first["resident_id"]


def test_different_wechat_users_become_different_residents(client):
    bob = client.post(WECHAT_LOGIN, json={"code": "bob:1"}).json
    carol = client.post(WECHAT_LOGIN, json={"code": "carol:1"}).json
    assert bob["resident_id"] != carol["resident_id"]


def test_the_session_key_is_stored_but_never_returned(app, client):
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 200
    assert "session_key" not in response.json
    with app.app_context():
        session_key = db.session.get(Resident, response.json["resident_id"]).session_key
    assert session_key
    assert session_key not in response.get_data(as_text=True)


def test_a_reused_wechat_code_is_401_wechat_code_invalid(client):
    assert client.post(WECHAT_LOGIN, json={"code": "bob:1"}).status_code == 200
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "wechat_code_invalid"
    assert response.json["error"]["message_zh"]


def test_an_invalid_wechat_code_is_401_wechat_code_invalid(client):
    response = client.post(WECHAT_LOGIN, json={"code": "err40029-x"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "wechat_code_invalid"


def test_wechat_rate_limiting_is_429_with_retry_after(client):
    response = client.post(WECHAT_LOGIN, json={"code": "err45011-x"})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "wechat_rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_a_user_blocked_by_wechat_is_403_wechat_user_blocked(client):
    response = client.post(WECHAT_LOGIN, json={"code": "err40226-x"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "wechat_user_blocked"


def test_wechat_busy_is_503_wechat_busy_with_retry_after(client):
    response = client.post(WECHAT_LOGIN, json={"code": "err-1-x"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_busy"
    assert int(response.headers["Retry-After"]) > 0


def test_an_injected_wechat_busy_answer_is_503_wechat_busy(client, fake_wechat):
    fake_wechat.state.fail_next("jscode2session", -1, "system error")
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_busy"


def test_unreachable_wechat_is_503_wechat_unreachable(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:1")
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_unreachable"
    assert "Retry-After" in response.headers


def test_a_wechat_gateway_error_page_is_503_wechat_unreachable(client, fake_wechat):
    fake_wechat.state.fail_next_http("jscode2session", 502)
    response = client.post(WECHAT_LOGIN, json={"code": "bob:1"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_unreachable"


def test_a_failed_wechat_login_creates_no_resident(app, client):
    client.post(WECHAT_LOGIN, json={"code": "err40226-x"})
    with app.app_context():
        assert db.session.query(Resident).count() == 0


def test_an_empty_wechat_code_is_422(client):
    response = client.post(WECHAT_LOGIN, json={"code": ""})
    assert response.status_code == 422
    assert "code" in response.json["error"]["fields"]


# Staff sign-in


def test_an_engineer_signs_in_with_the_right_password(app, client):
    engineer_id = f.engineer(app)
    staff_id = f.staff_id_of(app, engineer_id)
    response = client.post(
        STAFF_LOGIN, json={"login": _username(app, staff_id), "password": f.PASSWORD}
    )
    assert response.status_code == 200
    body = response.json
    assert body["role"] == "engineer"
    assert body["engineer_id"] == engineer_id
    assert body["staff_id"] == staff_id
    assert (
        client.get("/api/v1/engineers/me/offers", headers=_bearer(body["token"])).status_code == 200
    )


def test_a_manager_signs_in_with_no_engineer_id(app, client):
    f.staff(app, "manager", username="boss")
    response = client.post(STAFF_LOGIN, json={"login": "boss", "password": f.PASSWORD})
    assert response.status_code == 200
    assert response.json["role"] == "manager"
    assert response.json["engineer_id"] is None


def test_a_wrong_password_is_401_bad_credentials(app, client):
    f.staff(app, "manager", username="boss")
    response = client.post(STAFF_LOGIN, json={"login": "boss", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_credentials"
    assert "token" not in response.json


def test_an_unknown_user_is_401_with_the_same_code_and_message(app, client):
    f.staff(app, "manager", username="boss")
    wrong_password = client.post(STAFF_LOGIN, json={"login": "boss", "password": "nope-nope"})
    unknown = client.post(STAFF_LOGIN, json={"login": "nobody", "password": f.PASSWORD})
    assert unknown.status_code == 401
    same = {k: v for k, v in unknown.json["error"].items() if k != "request_id"}
    assert same == {k: v for k, v in wrong_password.json["error"].items() if k != "request_id"}
    assert unknown.json["error"]["code"] == "bad_credentials"


def test_an_inactive_staff_member_cannot_sign_in(app, client):
    staff_id = f.staff(app, "manager", username="gone")
    _set_staff(app, staff_id, active=False)
    response = client.post(STAFF_LOGIN, json={"login": "gone", "password": f.PASSWORD})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_credentials"


def test_a_staff_member_signs_in_with_their_phone(app, client):
    staff_id = f.staff(app, "manager", username="boss")
    _set_staff(app, staff_id, phone="13800138000")
    response = client.post(STAFF_LOGIN, json={"login": "13800138000", "password": f.PASSWORD})
    assert response.status_code == 200
    assert response.json["staff_id"] == staff_id


# Tokens


def test_a_request_without_a_token_is_401_auth_required(client):
    response = client.get(INBOX)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "auth_required"


def test_a_non_bearer_authorization_header_is_401_auth_required(client):
    response = client.get(INBOX, headers={"Authorization": "Basic Ym9iOnB3"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "auth_required"


def test_an_expired_token_is_401_token_expired(app, client):
    resident_id = f.resident(app)
    past = utcnow() - timedelta(hours=2)
    headers = _crafted(app, subject_id=resident_id, iat=past, exp=past + timedelta(hours=1))
    response = client.get(INBOX, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_a_token_signed_with_another_key_is_401_token_invalid(app, client):
    resident_id = f.resident(app)
    headers = _crafted(
        app, key="another-key-that-is-also-long-enough-0123456", subject_id=resident_id
    )
    response = client.get(INBOX, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_a_token_for_another_audience_is_401_token_invalid(app, client):
    resident_id = f.resident(app)
    response = client.get(INBOX, headers=_crafted(app, subject_id=resident_id, aud="other-api"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_a_token_from_another_issuer_is_401_token_invalid(app, client):
    resident_id = f.resident(app)
    response = client.get(INBOX, headers=_crafted(app, subject_id=resident_id, iss="someone-else"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_a_garbage_token_is_401_token_invalid(client):
    response = client.get(INBOX, headers=_bearer("not.a.jwt"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_a_token_with_a_non_numeric_subject_is_401_token_invalid(app, client):
    response = client.get(INBOX, headers=_crafted(app, subject_id="bob"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_a_deactivated_staff_members_token_stops_working_at_once(app, client):
    manager = f.staff(app, "manager")
    headers = f.staff_auth(app, manager, "manager")
    assert client.get(KPIS, headers=headers).status_code == 200
    _set_staff(app, manager, active=False)
    response = client.get(KPIS, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "account_inactive"


# Roles


def test_a_resident_token_is_403_role_forbidden_on_kpis(app, client):
    response = client.get(KPIS, headers=f.resident_auth(app, f.resident(app)))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "role_forbidden"


def test_an_engineer_token_is_403_role_forbidden_on_kpis(app, client):
    response = client.get(KPIS, headers=f.engineer_auth(app, f.engineer(app)))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "role_forbidden"


def test_a_manager_token_may_read_kpis(app, client):
    response = client.get(KPIS, headers=f.staff_auth(app, f.staff(app, "manager"), "manager"))
    assert response.status_code == 200
    assert "items" in response.json


def test_an_admin_token_may_read_kpis(app, client):
    response = client.get(KPIS, headers=f.staff_auth(app, f.staff(app, "admin"), "admin"))
    assert response.status_code == 200


def test_the_role_comes_from_the_account_not_the_token(app, client):
    engineer_staff = f.staff_id_of(app, f.engineer(app))
    response = client.get(KPIS, headers=f.token(app, "staff", engineer_staff, "manager"))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "role_forbidden"


@pytest.mark.parametrize("path", [INBOX, KPIS, "/api/v1/me/orders", "/api/v1/engineers/me/offers"])
def test_guarded_routes_answer_401_before_validating_arguments(client, path):
    response = client.get(path, query_string={"page": "not-a-number"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "auth_required"


def _username(app, staff_id: int) -> str:
    with app.app_context():
        return db.session.get(StaffUser, staff_id).username


def _set_staff(app, staff_id: int, **changes) -> None:
    with app.app_context():
        staff = db.session.get(StaffUser, staff_id)
        for name, value in changes.items():
            setattr(staff, name, value)
        db.session.commit()


def test_an_admin_cannot_act_as_a_resident(app, client):
    admin = f.staff_auth(app, f.staff(app, "admin"), "admin")
    response = client.get("/api/v1/me/communities", headers=admin)
    assert response.status_code == 403


def test_an_admin_passes_where_managers_do(app, client):
    admin = f.staff_auth(app, f.staff(app, "admin"), "admin")
    assert client.get("/api/v1/follow-ups", headers=admin).status_code == 200

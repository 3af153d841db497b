"""Sign-in protection: failed staff sign-ins lock a login for a while, never for good."""

import time

import pytest

from models import StaffUser
from service_hub.plumbing.extensions import db
from tests import factories as f

STAFF_LOGIN = "/api/v1/auth/staff-login"


def _limits(app, monkeypatch, **limits) -> None:
    monkeypatch.setitem(app.config, "RATE_LIMITS", {**app.config["RATE_LIMITS"], **limits})


@pytest.fixture
def three_tries(app, monkeypatch):
    """Three failures per (login, address) a minute; a roomy ceiling per login."""
    _limits(app, monkeypatch, login_failures="3 per minute", login_failures_account="100/minute")


def _sign_in(client, login: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        STAFF_LOGIN,
        json={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_repeated_wrong_passwords_lock_the_login_with_429(app, client, three_tries):
    f.staff(app, "manager", username="boss")
    assert [_sign_in(client, "boss", "wrong-pass").status_code for _ in range(3)] == [401] * 3
    response = _sign_in(client, "boss", f.PASSWORD)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "login_locked"
    assert "登录失败次数过多" in response.json["error"]["message_zh"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_failures_by_phone_and_by_username_count_against_one_account(app, client, three_tries):
    staff_id = f.staff(app, "manager", username="boss")
    with app.app_context():
        db.session.get(StaffUser, staff_id).phone = "13800138000"
        db.session.commit()
    _sign_in(client, "boss", "wrong-pass")
    _sign_in(client, "13800138000", "wrong-pass")
    _sign_in(client, "boss", "wrong-pass")
    assert _sign_in(client, "13800138000", f.PASSWORD).status_code == 429


def test_a_lock_expires(app, client, monkeypatch):
    _limits(app, monkeypatch, login="1000 per minute", login_failures="2 per second")
    f.staff(app, "manager", username="boss")
    assert [_sign_in(client, "boss", "wrong-pass").status_code for _ in range(2)] == [401] * 2
    statuses = [_sign_in(client, "boss", f.PASSWORD).status_code]
    deadline = time.monotonic() + 10
    while statuses[-1] == 429 and time.monotonic() < deadline:
        time.sleep(0.05)
        statuses.append(_sign_in(client, "boss", f.PASSWORD).status_code)
    assert statuses[0] == 429
    assert statuses[-1] == 200


def test_the_lock_holds_the_guessing_address_not_the_user_elsewhere(app, client, three_tries):
    f.staff(app, "manager", username="boss")
    for _ in range(3):
        _sign_in(client, "boss", "wrong-pass", address="10.6.6.6")
    assert _sign_in(client, "boss", f.PASSWORD, address="10.6.6.6").status_code == 429
    assert _sign_in(client, "boss", f.PASSWORD, address="10.0.0.2").status_code == 200


def test_a_successful_sign_in_clears_the_callers_failures(app, client, three_tries):
    f.staff(app, "manager", username="boss")
    attempts = ["wrong-pass", "wrong-pass", f.PASSWORD, "wrong-pass", "wrong-pass", "wrong-pass"]
    statuses = [_sign_in(client, "boss", password).status_code for password in attempts]
    assert statuses == [401, 401, 200, 401, 401, 401]


@pytest.fixture
def spread_attack(app, client, monkeypatch):
    """Guessing from four addresses, two tries each: under the per-address limit (3) and
    through the per-login ceiling (8)."""
    _limits(app, monkeypatch, login_failures="3 per minute", login_failures_account="8/minute")
    f.staff(app, "manager", username="boss")

    def attack():
        for n in range(8):
            assert _sign_in(client, "boss", "wrong-pass", f"10.6.6.{n % 4}").status_code == 401

    return attack


def test_guessing_spread_over_addresses_locks_the_login_everywhere_new(client, spread_attack):
    spread_attack()
    response = _sign_in(client, "boss", f.PASSWORD, address="10.0.0.2")
    assert response.status_code == 429
    assert response.json["error"]["code"] == "login_locked"


def test_the_login_ceiling_spares_an_address_the_user_signed_in_from(client, spread_attack):
    assert _sign_in(client, "boss", f.PASSWORD, address="10.0.0.2").status_code == 200
    spread_attack()
    assert _sign_in(client, "boss", f.PASSWORD, address="10.0.0.2").status_code == 200

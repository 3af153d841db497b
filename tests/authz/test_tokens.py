"""The token guard: what a bearer token must be for any guarded route to accept it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from service_hub.auth.tokens import ALGORITHM, AUDIENCE, ISSUER
from service_hub.plumbing.extensions import db
from tests import factories as f

GUARDED = "/api/v1/me/inbox"


def _claims(**overrides) -> dict:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "1",
        "kind": "resident",
        "role": "resident",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return {**claims, **overrides}


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _signed(app, **overrides) -> str:
    return jwt.encode(_claims(**overrides), app.config["SECRET_KEY"], algorithm=ALGORITHM)


def _error_code(response) -> str | None:
    body = response.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code")


def _refused(response, code: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert _error_code(response) == code


def test_a_well_formed_token_passes_the_guard(app, client):
    assert client.get(GUARDED, headers=_bearer(_signed(app))).status_code == 200


def test_an_expired_token_is_refused(app, client):
    expired = _signed(app, exp=datetime.now(UTC) - timedelta(seconds=1))
    _refused(client.get(GUARDED, headers=_bearer(expired)), "token_expired")


def test_a_token_whose_claims_were_changed_after_signing_is_refused(app, client):
    header, _, signature = _signed(app).split(".")
    forged = jwt.encode(_claims(kind="staff", role="admin"), "k" * 48, algorithm=ALGORITHM)
    tampered = ".".join((header, forged.split(".")[1], signature))
    _refused(client.get(GUARDED, headers=_bearer(tampered)), "token_invalid")


def test_a_token_signed_with_another_key_is_refused(client):
    foreign = jwt.encode(_claims(), "another-key-that-is-long-enough-0123456789", ALGORITHM)
    _refused(client.get(GUARDED, headers=_bearer(foreign)), "token_invalid")


def test_an_unsigned_token_is_refused(client):
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    _refused(client.get(GUARDED, headers=_bearer(unsigned)), "token_invalid")


def test_a_token_for_another_audience_is_refused(app, client):
    token = _signed(app, aud="another-api")
    _refused(client.get(GUARDED, headers=_bearer(token)), "token_invalid")


def test_a_token_from_another_issuer_is_refused(app, client):
    token = _signed(app, iss="someone-else")
    _refused(client.get(GUARDED, headers=_bearer(token)), "token_invalid")


def test_a_token_without_an_expiry_is_refused(app, client):
    claims = _claims()
    del claims["exp"]
    token = jwt.encode(claims, app.config["SECRET_KEY"], algorithm=ALGORITHM)
    _refused(client.get(GUARDED, headers=_bearer(token)), "token_invalid")


def test_a_token_with_a_non_numeric_subject_is_refused(app, client):
    _refused(client.get(GUARDED, headers=_bearer(_signed(app, sub="alice"))), "token_invalid")


def test_a_token_sent_without_the_bearer_scheme_is_refused(app, client):
    response = client.get(GUARDED, headers={"Authorization": f"Token {_signed(app)}"})
    _refused(response, "auth_required")


def test_a_bad_token_on_the_public_question_list_is_refused(app, client):
    community_id = f.community(app)
    expired = _signed(app, exp=datetime.now(UTC) - timedelta(seconds=1))
    response = client.get(f"/api/v1/communities/{community_id}/questions", headers=_bearer(expired))
    _refused(response, "token_expired")


def test_a_staff_token_of_a_deactivated_account_is_refused(app, client):
    staff_id = f.staff(app, "manager")
    headers = f.staff_auth(app, staff_id, "manager")
    assert client.get("/api/v1/follow-ups", headers=headers).status_code == 200
    with app.app_context():
        from models import StaffUser

        db.session.get(StaffUser, staff_id).active = False
        db.session.commit()
    _refused(client.get("/api/v1/follow-ups", headers=headers), "account_inactive")

"""Our own signed bearer tokens (JWT, HS256) for residents and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app

from models.base import utcnow
from service_hub.plumbing.errors import Unauthorized

ISSUER = "service-hub"
AUDIENCE = "service-hub-api"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """The caller of a request, as proven by their token."""

    kind: str  # "resident" or "staff"
    id: int
    role: str  # resident, engineer, manager, admin
    engineer_id: int | None = None
    region: str | None = None


def issue_token(kind: str, subject_id: int, role: str) -> tuple[str, int]:
    """Sign a token for a resident or a staff account; returns (token, seconds to live)."""
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    now = utcnow()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(subject_id),
        "kind": kind,
        "role": role,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHM), ttl


def decode_token(token: str) -> dict:
    """Verify signature, expiry, issuer and audience; raise Unauthorized otherwise."""
    try:
        return jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(
            "The token has expired; sign in again.", code="token_expired", message_zh="登录已过期"
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("The token is not valid.", code="token_invalid") from exc

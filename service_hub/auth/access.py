"""Role checks on every route, documented in the OpenAPI document as they are enforced."""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlalchemy as sa
from flask import g, request

from models import Engineer, StaffUser
from service_hub.auth.tokens import Principal, decode_token
from service_hub.plumbing.errors import Forbidden, Unauthorized
from service_hub.plumbing.extensions import db

ALL_ROLES = ("resident", "engineer", "manager", "admin")
STAFF_ROLES = ("engineer", "manager", "admin")


def _principal_from_request() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Send a bearer token in the Authorization header.",
            code="auth_required",
            message_zh="请先登录",
        )
    claims = decode_token(token.strip())
    try:
        subject_id = int(claims["sub"])
    except ValueError as exc:
        raise Unauthorized("The token is not valid.", code="token_invalid") from exc
    if claims.get("kind") == "resident":
        return Principal(kind="resident", id=subject_id, role="resident")
    # Staff are looked up each time so a deactivated account or a changed role takes effect now.
    row = db.session.execute(
        sa.select(StaffUser, Engineer.id)
        .outerjoin(Engineer, Engineer.staff_user_id == StaffUser.id)
        .where(StaffUser.id == subject_id)
    ).first()
    if row is None or not row[0].active:
        raise Unauthorized("This account is not active.", code="account_inactive")
    staff, engineer_id = row
    return Principal(
        kind="staff", id=staff.id, role=staff.role, engineer_id=engineer_id, region=staff.region
    )


def current_principal() -> Principal:
    """The authenticated caller; only valid inside a route guarded by requires()."""
    return g.principal


def caller_if_any() -> Principal | None:
    """The caller of a route anyone may call (see `optional_auth`): None without a token; a
    token that is sent must be valid (401 otherwise), as on every other route."""
    if "principal" not in g:
        signed = bool(request.headers.get("Authorization"))
        g.principal = _principal_from_request() if signed else None
    return g.principal


def optional_auth(blp) -> Callable:
    """Document a route anyone may call whose answer depends on who calls (a resident's
    `is_bound`, what staff see beyond the public view): the bearer token is optional, and a
    bad one is a 401. The view reads the caller with `caller_if_any()`."""

    def decorator(view: Callable) -> Callable:
        documented = blp.doc(security=[{}, {"bearerAuth": []}])(view)
        return blp.alt_response(401, response="UNAUTHORIZED")(documented)

    return decorator


def requires(blp, *roles: str) -> Callable:
    """Guard a view: a valid token whose role is one of `roles` (admins pass where managers do).

    Applied above @blp.arguments so a stranger hears 401 before any validation detail.
    """
    allowed = set(roles or ALL_ROLES)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = _principal_from_request()
            # Admins can do what managers can; resident and engineer routes act as that
            # person, which an admin is not.
            admin_ok = principal.role == "admin" and "manager" in allowed
            if principal.role not in allowed and not admin_ok:
                raise Forbidden(
                    f"This action is for: {', '.join(sorted(allowed))}.",
                    code="role_forbidden",
                    message_zh="无权进行此操作",
                )
            g.principal = principal
            return view(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        documented = blp.alt_response(401, response="UNAUTHORIZED")(documented)
        return blp.alt_response(403, response="FORBIDDEN")(documented)

    return decorator

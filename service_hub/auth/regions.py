"""The region rule, in one place: a manager with a region (a province or a city) acts only
on communities there; admins and managers without a region act everywhere."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community
from service_hub.auth.tokens import Principal
from service_hub.errors import Forbidden
from service_hub.extensions import db


def place_in_region(region: str | None, province: str, city: str) -> bool:
    """Whether a place (province, city) lies in a region (None: everywhere)."""
    return not region or region in (province, city)


def _scope(principal: Principal) -> str | None:
    return None if principal.role == "admin" else principal.region


def covers(principal: Principal, community: Community) -> bool:
    """Whether the caller's region includes the community."""
    return place_in_region(_scope(principal), community.province, community.city)


def region_clause(principal: Principal) -> sa.ColumnElement[bool]:
    """A WHERE clause on Community limiting rows to the caller's region."""
    region = _scope(principal)
    if not region:
        return sa.true()
    return sa.or_(Community.province == region, Community.city == region)


def require_region(principal: Principal, community_id: int) -> None:
    """Refuse (403 outside_region) a community outside the caller's region."""
    community = db.session.get(Community, community_id)
    if community is not None and not covers(principal, community):
        raise Forbidden(
            "This community is outside your region.",
            code="outside_region",
            message_zh="该小区不在您负责的区域",
        )

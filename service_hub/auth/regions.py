"""The region rule, in one place: a manager with a region (a province or a city) acts only
on communities there, and on the engineers who serve at least one of them; admins and managers
without a region act everywhere."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community, EngineerCommunity
from service_hub.auth.tokens import Principal
from service_hub.plumbing.errors import Forbidden
from service_hub.plumbing.extensions import db


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


def engineer_in_region(principal: Principal, engineer_id: int) -> bool:
    """Whether the engineer serves at least one community in the caller's region.

    Engineers belong to the regions of the communities they serve, so one serving Beijing and
    Shanghai is administered by the managers of both.
    """
    if not _scope(principal):
        return True
    served_here = (
        sa.select(EngineerCommunity.id)
        .join(Community, Community.id == EngineerCommunity.community_id)
        .where(EngineerCommunity.engineer_id == engineer_id, region_clause(principal))
    )
    return bool(db.session.scalar(sa.select(served_here.exists())))


def require_engineer_in_region(principal: Principal, engineer_id: int) -> None:
    """Refuse (403) a regional manager acting on an engineer of no community of their region.

    An engineer who serves no community yet belongs to no region: only admins and managers
    without a region administer them (403 engineer_unassigned), so a regional manager cannot
    claim an engineer meant for another region before it is assigned.
    """
    if engineer_in_region(principal, engineer_id):
        return
    serves_any = sa.select(EngineerCommunity.id).where(EngineerCommunity.engineer_id == engineer_id)
    if not db.session.scalar(sa.select(serves_any.exists())):
        raise _unassigned()
    raise Forbidden(
        "This engineer serves no community in your region.",
        code="outside_region",
        message_zh="该工程师不在您负责的区域",
    )


def require_new_engineer_in_region(principal: Principal, communities: list[Community]) -> None:
    """Refuse (403) a regional manager creating an engineer who would not be theirs: the new
    engineer serves at least one community, and every one of them is in the region."""
    if not _scope(principal):
        return
    if not communities:
        raise _unassigned()
    outside = sorted(c.id for c in communities if not covers(principal, c))
    if outside:
        raise Forbidden(
            "Some communities are outside your region.",
            code="outside_region",
            message_zh="部分小区不在您负责的区域",
            details={"community_ids": outside},
        )


def _unassigned() -> Forbidden:
    return Forbidden(
        "This engineer serves no community yet, so no region: an administrator manages them.",
        code="engineer_unassigned",
        message_zh="该工程师尚未负责任何小区，请由管理员处理",
    )

"""Read the KPI rollups for managers (never the raw orders)."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community, CommunityMonthKpi
from service_hub.auth.regions import region_clause
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community
from service_hub.errors import NotFound
from service_hub.extensions import db
from service_hub.kpis.rollup import COUNTERS

SORTABLE = {
    "orders": CommunityMonthKpi.orders_created,
    "completed": CommunityMonthKpi.orders_completed,
    "complaints": CommunityMonthKpi.complaints,
    "orders_per_1000": CommunityMonthKpi.orders_created
    * 1000.0
    / sa.func.nullif(Community.household_count, 0),
    "complaints_per_1000": CommunityMonthKpi.complaints
    * 1000.0
    / sa.func.nullif(Community.household_count, 0),
    "community_id": Community.id,
}


def table_query(
    principal: Principal, month: str, sort: str, descending: bool, region: str | None
) -> sa.Select:
    """One row per community for the month, sorted by a KPI."""
    stmt = (
        sa.select(CommunityMonthKpi, Community)
        .join(Community, Community.id == CommunityMonthKpi.community_id)
        .where(CommunityMonthKpi.month == month, region_clause(principal))
    )
    if region:
        stmt = stmt.where(
            sa.or_(
                Community.province == region, Community.city == region, Community.district == region
            )
        )
    key = SORTABLE[sort]
    return stmt.order_by(
        key.desc().nulls_last() if descending else key.asc().nulls_last(), Community.id
    )


def to_row(kpi: CommunityMonthKpi, community: Community) -> dict:
    """A KPI row with the per-1,000-household figures worked out."""
    households = community.household_count or 0

    def per_1000(n: int) -> float | None:
        return round(n * 1000 / households, 3) if households else None

    return {
        "community_id": community.id,
        "community_name": community.name,
        "month": kpi.month,
        "household_count": households,
        "orders": kpi.orders_created,
        "completed": kpi.orders_completed,
        "cancelled": kpi.orders_cancelled,
        "complaints": kpi.complaints,
        "orders_per_1000": per_1000(kpi.orders_created),
        "complaints_per_1000": per_1000(kpi.complaints),
        "average_rating": round(kpi.rating_sum / kpi.rating_count, 3) if kpi.rating_count else None,
    }


def series(principal: Principal, community_id: int, months: list[str]) -> list[dict]:
    """One community's KPIs for the given months (a month with no activity shows zeros)."""
    community = get_community(community_id)
    visible = db.session.execute(
        sa.select(Community.id).where(Community.id == community_id, region_clause(principal))
    ).first()
    if visible is None:
        raise NotFound(f"No community {community_id} in your region.", code="community_not_found")
    found = db.session.scalars(
        sa.select(CommunityMonthKpi).where(
            CommunityMonthKpi.community_id == community_id, CommunityMonthKpi.month.in_(months)
        )
    ).all()
    by_month = {kpi.month: kpi for kpi in found}
    empty = dict.fromkeys(COUNTERS, 0)
    return [
        to_row(by_month.get(m) or CommunityMonthKpi(month=m, **empty), community) for m in months
    ]

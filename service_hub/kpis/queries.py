"""Read the KPI rollups for managers (never the raw orders)."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community, CommunityMonthKpi, CommunityStatus
from service_hub.auth.regions import region_clause
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community
from service_hub.kpis import measures
from service_hub.kpis.rollup import COUNTERS
from service_hub.plumbing.errors import NotFound
from service_hub.plumbing.extensions import db

Now = sa.orm.aliased(CommunityMonthKpi, name="kpi_now")
Before = sa.orm.aliased(CommunityMonthKpi, name="kpi_before")
YearAgo = sa.orm.aliased(CommunityMonthKpi, name="kpi_year_ago")
_HOUSEHOLDS = sa.func.nullif(Community.household_count, 0)


def _rate(kpi, column: str):
    return getattr(kpi, column) * 1000.0 / _HOUSEHOLDS


def _change_expr(now, then):
    return (now - then) * 1.0 / sa.func.nullif(then, 0)


def _zero(column):
    return sa.func.coalesce(column, 0)


SORTABLE = {
    "orders": _zero(Now.orders_created),
    "completed": _zero(Now.orders_completed),
    "complaints": _zero(Now.complaints),
    "orders_per_1000": _rate(Now, "orders_created"),
    "complaints_per_1000": _rate(Now, "complaints"),
    "orders_mom": _change_expr(Now.orders_created, Before.orders_created),
    "orders_yoy": _change_expr(Now.orders_created, YearAgo.orders_created),
    "complaints_mom": _change_expr(Now.complaints, Before.complaints),
    "complaints_yoy": _change_expr(Now.complaints, YearAgo.complaints),
    "average_rating": Now.rating_sum * 1.0 / sa.func.nullif(Now.rating_count, 0),
    "accept_minutes": Now.accept_seconds / 60.0 / sa.func.nullif(Now.accepted, 0),
    "on_time_rate": Now.arrivals_on_time * 1.0 / sa.func.nullif(Now.arrivals_with_window, 0),
    "active_residents": _zero(Now.active_residents),
    "household_count": Community.household_count,
    "community_id": Community.id,
}


def shift_month(month: str, months: int) -> str:
    """ "2026-03" shifted by -1 → "2026-02"."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def table_query(
    principal: Principal,
    month: str,
    sort: str,
    descending: bool,
    region: str | None,
    tier: str | None = None,
) -> sa.Select:
    """One row per community for the month, with the month before and a year before, sorted
    by any KPI."""
    # Every active community appears, also one with no activity that month: quiet
    # communities belong at the bottom of the table, not outside it.
    stmt = (
        sa.select(Now, Community, Before, YearAgo)
        .select_from(Community)
        .outerjoin(Now, sa.and_(Now.community_id == Community.id, Now.month == month))
        .outerjoin(
            Before,
            sa.and_(Before.community_id == Community.id, Before.month == shift_month(month, -1)),
        )
        .outerjoin(
            YearAgo,
            sa.and_(YearAgo.community_id == Community.id, YearAgo.month == shift_month(month, -12)),
        )
        .where(Community.status == CommunityStatus.ACTIVE, region_clause(principal))
    )
    if region:
        stmt = stmt.where(
            sa.or_(
                Community.province == region, Community.city == region, Community.district == region
            )
        )
    if tier:
        stmt = stmt.where(Community.tier == tier)
    key = SORTABLE[sort]
    return stmt.order_by(
        key.desc().nulls_last() if descending else key.asc().nulls_last(), Community.id
    )


def _figures(kpi: CommunityMonthKpi | None, households: int) -> dict | None:
    if kpi is None:
        return None
    return {
        "orders": kpi.orders_created,
        "completed": kpi.orders_completed,
        "cancelled": kpi.orders_cancelled,
        "complaints": kpi.complaints,
        "rating_count": kpi.rating_count,
        "orders_per_1000": measures.per_1000(kpi.orders_created, households),
        "complaints_per_1000": measures.per_1000(kpi.complaints, households),
        "average_rating": round(kpi.rating_sum / kpi.rating_count, 3) if kpi.rating_count else None,
    }


def row_for(month: str):
    """to_row for a table row, with a quiet month (no rollup yet) shown as zeros."""

    def convert(kpi, community, before=None, year_ago=None) -> dict:
        if kpi is None:
            kpi = CommunityMonthKpi(
                community_id=community.id, month=month, **dict.fromkeys(COUNTERS, 0)
            )
        return to_row(kpi, community, before, year_ago)

    return convert


def to_row(kpi: CommunityMonthKpi, community: Community, before=None, year_ago=None) -> dict:
    """A KPI row: counts, per-1,000-household rates, 环比/同比, satisfaction, warnings."""
    households = community.household_count or 0
    now = _figures(kpi, households)
    prev, last_year = _figures(before, households), _figures(year_ago, households)
    return {
        "community_id": community.id,
        "community_name": community.name,
        "tier": community.tier,
        "month": kpi.month,
        "household_count": households,
        **{k: v for k, v in now.items() if k != "rating_count"},
        "orders_mom": measures.change(now["orders"], prev and prev["orders"]),
        "orders_yoy": measures.change(now["orders"], last_year and last_year["orders"]),
        "complaints_mom": measures.change(now["complaints"], prev and prev["complaints"]),
        "complaints_yoy": measures.change(now["complaints"], last_year and last_year["complaints"]),
        "orders_per_1000_mom": measures.change(
            now["orders_per_1000"], prev and prev["orders_per_1000"]
        ),
        "complaints_per_1000_mom": measures.change(
            now["complaints_per_1000"], prev and prev["complaints_per_1000"]
        ),
        "accept_minutes": round(kpi.accept_seconds / 60 / kpi.accepted, 1)
        if kpi.accepted
        else None,
        "on_time_rate": round(kpi.arrivals_on_time / kpi.arrivals_with_window, 4)
        if kpi.arrivals_with_window
        else None,
        "active_residents": kpi.active_residents,
        "satisfaction_index": measures.satisfaction_index(
            kpi.rating_sum,
            kpi.rating_count,
            kpi.complaints,
            kpi.orders_completed,
            kpi.arrivals_on_time,
            kpi.arrivals_with_window,
        ),
        "health_warnings": measures.health_warnings(now, prev),
    }


def series(principal: Principal, community_id: int, months: list[str]) -> list[dict]:
    """One community's KPIs for the given months (a month with no activity shows zeros)."""
    community = get_community(community_id)
    visible = db.session.execute(
        sa.select(Community.id).where(Community.id == community_id, region_clause(principal))
    ).first()
    if visible is None:
        raise NotFound(f"No community {community_id} in your region.", code="community_not_found")
    wanted = (
        set(months) | {shift_month(m, -1) for m in months} | {shift_month(m, -12) for m in months}
    )
    found = db.session.scalars(
        sa.select(CommunityMonthKpi).where(
            CommunityMonthKpi.community_id == community_id, CommunityMonthKpi.month.in_(wanted)
        )
    ).all()
    by_month = {kpi.month: kpi for kpi in found}
    empty = dict.fromkeys(COUNTERS, 0)
    return [
        to_row(
            by_month.get(m) or CommunityMonthKpi(month=m, **empty),
            community,
            by_month.get(shift_month(m, -1)),
            by_month.get(shift_month(m, -12)),
        )
        for m in months
    ]

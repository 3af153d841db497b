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
# Counters a row reads (every counter the rollup keeps); a month without a rollup row has
# them all at zero.
ROW_COUNTERS = COUNTERS


def _zero(column):
    return sa.func.coalesce(column, 0)


def _now(column: str):
    """This month's counter, 0 when the community had no rollup row: a quiet month is a
    real zero (it sorts among the lowest), not an unknown."""
    return _zero(getattr(Now, column))


def _rate(column: str):
    return _now(column) * 1000.0 / _HOUSEHOLDS


def _change_expr(now, then):
    return (now - then) * 1.0 / sa.func.nullif(then, 0)


def _satisfaction():
    """measures.satisfaction_index in SQL (NULL without ratings), so the list sorts by it."""
    prior, weight = measures.SATISFACTION_PRIOR
    rating = (prior * weight + Now.rating_sum) * 1.0 / (weight + Now.rating_count)
    completed = sa.case((Now.orders_completed > 1, Now.orders_completed), else_=1)
    complaint_ratio = 5.0 * Now.complaints / completed
    complaint_part = 1 - sa.case((complaint_ratio > 1, 1.0), else_=complaint_ratio)
    punctuality = sa.case(
        (Now.arrivals_with_window > 0, Now.arrivals_on_time * 1.0 / Now.arrivals_with_window),
        else_=1.0,
    )
    score = 100 * (0.5 * (rating - 1) / 4 + 0.3 * complaint_part + 0.2 * punctuality)
    return sa.case((Now.rating_count > 0, score), else_=None)


def _first_time_fix():
    rate = 1 - Now.repeat_visits * 1.0 / Now.orders_completed
    return sa.case((Now.orders_completed > 0, sa.case((rate < 0, 0.0), else_=rate)), else_=None)


# Sort keys → SQL. NULL means "not defined" (no households on record, no ratings, nothing to
# compare with) and sorts last in both directions; a quiet month counts as zeros.
SORTABLE = {
    "orders": _now("orders_created"),
    "completed": _now("orders_completed"),
    "cancelled": _now("orders_cancelled"),
    "complaints": _now("complaints"),
    "orders_per_1000": _rate("orders_created"),
    "complaints_per_1000": _rate("complaints"),
    "orders_mom": _change_expr(_now("orders_created"), Before.orders_created),
    "orders_yoy": _change_expr(_now("orders_created"), YearAgo.orders_created),
    "complaints_mom": _change_expr(_now("complaints"), Before.complaints),
    "complaints_yoy": _change_expr(_now("complaints"), YearAgo.complaints),
    "orders_per_1000_mom": _change_expr(
        _rate("orders_created"), Before.orders_created * 1000.0 / _HOUSEHOLDS
    ),
    "complaints_per_1000_mom": _change_expr(
        _rate("complaints"), Before.complaints * 1000.0 / _HOUSEHOLDS
    ),
    "average_rating": Now.rating_sum * 1.0 / sa.func.nullif(Now.rating_count, 0),
    "accept_minutes": Now.accept_seconds / 60.0 / sa.func.nullif(Now.accepted, 0),
    "on_time_rate": Now.arrivals_on_time * 1.0 / sa.func.nullif(Now.arrivals_with_window, 0),
    "active_residents": _now("active_residents"),
    "sla_breaches": _now("sla_breaches"),
    "urges": _now("urges"),
    "repeat_visits": _now("repeat_visits"),
    "disputes": _now("disputes"),
    "first_time_fix_rate": _first_time_fix(),
    "satisfaction_index": _satisfaction(),
    "household_count": Community.household_count,
    "community_id": Community.id,
}
# Comparisons with earlier months: not made while the month is still running.
CHANGES = frozenset(k for k in SORTABLE if k.endswith(("_mom", "_yoy")))


def shift_month(month: str, months: int) -> str:
    """ "2026-03" shifted by -1 → "2026-02"."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def warning_conditions() -> dict[str, sa.ColumnElement[bool]]:
    """measures.health_warnings as SQL over this month (Now) and the month before (Before)."""
    orders, before_orders = _now("orders_created"), _zero(Before.orders_created)
    complaints = _now("complaints")
    return {
        "falling_volume": sa.and_(
            before_orders >= measures.MIN_ORDERS_FOR_TREND,
            orders <= measures.FALL_RATIO * before_orders,
        ),
        "rising_complaints": sa.and_(
            Before.id.is_not(None),
            complaints > Before.complaints,
            complaints >= measures.MIN_RISING_COMPLAINTS,
        ),
        "low_rating": sa.and_(
            Now.rating_count >= measures.MIN_RATINGS,
            Now.rating_sum < measures.LOW_RATING * Now.rating_count,
        ),
        "no_engineer_active": sa.and_(
            orders >= measures.MIN_ORDERS_IDLE, _now("orders_completed") == 0
        ),
    }


def _months_query(principal: Principal, month: str, region: str | None, tier: str | None):
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
    return stmt


def table_query(
    principal: Principal,
    month: str,
    sort: str,
    descending: bool,
    region: str | None,
    tier: str | None = None,
    partial: bool = False,
) -> sa.Select:
    """One row per community for the month, with the month before and a year before, sorted
    by any KPI; undefined values last whichever the direction."""
    stmt = _months_query(principal, month, region, tier)
    key = sa.null() if partial and sort in CHANGES else SORTABLE[sort]
    return stmt.order_by(
        key.desc().nulls_last() if descending else key.asc().nulls_last(), Community.id
    )


def warnings_query(
    principal: Principal, month: str, region: str | None, tier: str | None, partial: bool
) -> sa.Select:
    """The communities with a health warning in a complete month, most warnings first;
    nothing for a month still running (its volume cannot be compared yet)."""
    stmt = _months_query(principal, month, region, tier)
    if partial:
        return stmt.where(sa.false()).order_by(Community.id)
    conditions = list(warning_conditions().values())
    count = sum((sa.case((c, 1), else_=0) for c in conditions), sa.literal(0))
    return stmt.where(sa.or_(*conditions)).order_by(count.desc(), Community.id)


def _counts(kpi: CommunityMonthKpi | None) -> dict[str, int] | None:
    if kpi is None:
        return None
    return {name: getattr(kpi, name) or 0 for name in ROW_COUNTERS}


def _figures(counts: dict[str, int] | None, households: int) -> dict | None:
    if counts is None:
        return None
    return {
        "orders": counts["orders_created"],
        "completed": counts["orders_completed"],
        "cancelled": counts["orders_cancelled"],
        "complaints": counts["complaints"],
        "rating_count": counts["rating_count"],
        "rating_sum": counts["rating_sum"],
        "orders_per_1000": measures.per_1000(counts["orders_created"], households),
        "complaints_per_1000": measures.per_1000(counts["complaints"], households),
        "average_rating": round(counts["rating_sum"] / counts["rating_count"], 3)
        if counts["rating_count"]
        else None,
    }


def row_for(month: str, partial: bool = False):
    """to_row for a table row of `month` (a quiet month, with no rollup yet, shows zeros)."""

    def convert(kpi, community, before=None, year_ago=None) -> dict:
        return to_row(community, month, kpi, before, year_ago, partial)

    return convert


def to_row(
    community: Community,
    month: str,
    kpi: CommunityMonthKpi | None,
    before: CommunityMonthKpi | None = None,
    year_ago: CommunityMonthKpi | None = None,
    partial: bool = False,
) -> dict:
    """A KPI row: counts, per-1,000-household rates, 环比/同比, satisfaction, first-time fix,
    warnings. A month still running (`partial`) has no 环比/同比 and no warnings: its first
    days are no match for a whole month."""
    households = community.household_count or 0
    counts = _counts(kpi) or dict.fromkeys(ROW_COUNTERS, 0)
    now = _figures(counts, households)
    prev, last_year = _figures(_counts(before), households), _figures(_counts(year_ago), households)

    def compare(key: str, then: dict | None) -> float | None:
        return None if partial else measures.change(now[key], then and then[key])

    return {
        "community_id": community.id,
        "community_name": community.name,
        "tier": community.tier,
        "month": month,
        "partial_month": partial,
        "household_count": households,
        **{k: v for k, v in now.items() if k not in ("rating_count", "rating_sum")},
        "orders_mom": compare("orders", prev),
        "orders_yoy": compare("orders", last_year),
        "complaints_mom": compare("complaints", prev),
        "complaints_yoy": compare("complaints", last_year),
        "orders_per_1000_mom": compare("orders_per_1000", prev),
        "complaints_per_1000_mom": compare("complaints_per_1000", prev),
        "accept_minutes": round(counts["accept_seconds"] / 60 / counts["accepted"], 1)
        if counts["accepted"]
        else None,
        "on_time_rate": round(counts["arrivals_on_time"] / counts["arrivals_with_window"], 4)
        if counts["arrivals_with_window"]
        else None,
        "active_residents": counts["active_residents"],
        "sla_breaches": counts["sla_breaches"],
        "urges": counts["urges"],
        "repeat_visits": counts["repeat_visits"],
        "disputes": counts["disputes"],
        "first_time_fix_rate": measures.first_time_fix_rate(
            counts["repeat_visits"], counts["orders_completed"]
        ),
        "satisfaction_index": measures.satisfaction_index(
            counts["rating_sum"],
            counts["rating_count"],
            counts["complaints"],
            counts["orders_completed"],
            counts["arrivals_on_time"],
            counts["arrivals_with_window"],
        ),
        "health_warnings": [] if partial else measures.health_warnings(now, prev),
    }


def series(principal: Principal, community_id: int, months: list[str], running: str) -> list[dict]:
    """One community's KPIs for the given months (a month with no activity shows zeros);
    `running` is the month now under way (it and later ones are partial)."""
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
    return [
        to_row(
            community,
            m,
            by_month.get(m),
            by_month.get(shift_month(m, -1)),
            by_month.get(shift_month(m, -12)),
            partial=m >= running,
        )
        for m in months
    ]

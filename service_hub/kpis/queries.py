"""Read the KPI rollups for managers (never the raw orders)."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community, CommunityMonthKpi, CommunityStatus
from models.kpi import FIGURES, CommunityMonthKpiFill, shift_month
from service_hub.auth.regions import region_clause
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community
from service_hub.kpis import measures
from service_hub.kpis.rollup import COUNTERS
from service_hub.plumbing.errors import NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import dialect_insert

Now = sa.orm.aliased(CommunityMonthKpi, name="kpi_now")
Before = sa.orm.aliased(CommunityMonthKpi, name="kpi_before")
YearAgo = sa.orm.aliased(CommunityMonthKpi, name="kpi_year_ago")
# Counters a row reads (every counter the rollup keeps); a quiet month has them all at zero.
ROW_COUNTERS = COUNTERS

# Sort keys → the column of this month's row that holds the figure (models/kpi.py keeps
# each figure, unrounded, with a (month, figure, community_id) index). NULL means "not
# defined" (no households on record, no ratings, nothing to compare with) and sorts last in
# both directions; a quiet month has a row of zeros (fill_month), so it sorts among the
# lowest. community_id is the row's own key.
SORTABLE = {
    "orders": Now.orders_created,
    "completed": Now.orders_completed,
    "cancelled": Now.orders_cancelled,
    "complaints": Now.complaints,
    "orders_per_1000": Now.orders_per_1000,
    "complaints_per_1000": Now.complaints_per_1000,
    "orders_mom": Now.orders_mom,
    "orders_yoy": Now.orders_yoy,
    "complaints_mom": Now.complaints_mom,
    "complaints_yoy": Now.complaints_yoy,
    "orders_per_1000_mom": Now.orders_per_1000_mom,
    "complaints_per_1000_mom": Now.complaints_per_1000_mom,
    "average_rating": Now.average_rating,
    "accept_minutes": Now.accept_minutes,
    "on_time_rate": Now.on_time_rate,
    "active_residents": Now.active_residents,
    "sla_breaches": Now.sla_breaches,
    "urges": Now.urges,
    "repeat_visits": Now.repeat_visits,
    "disputes": Now.disputes,
    "first_time_fix_rate": Now.first_time_fix_rate,
    "satisfaction_index": Now.satisfaction_index,
    "household_count": Now.households,
    "community_id": Now.community_id,
}
# Keys whose value may be undefined (NULL): the derived figures.
UNDEFINABLE = frozenset(k for k, column in SORTABLE.items() if column.key in FIGURES)
# Comparisons with earlier months: not made while the month is still running.
CHANGES = frozenset(k for k in SORTABLE if k.endswith(("_mom", "_yoy")))


def _zero(column):
    return sa.func.coalesce(column, 0)


def _now(column: str):
    """This month's counter (0 if, exceptionally, the row is missing)."""
    return _zero(getattr(Now, column))


def _counted(kpi) -> sa.ColumnElement[bool]:
    """The month has anything counted: a quiet row of zeros is the same as no row."""
    return sa.or_(*(getattr(kpi, name) != 0 for name in ROW_COUNTERS))


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
            _counted(Before),
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


def fill_month(month: str) -> None:
    """Give every community a row in `month` (zeros, with its context) unless it has one, so
    quiet communities sort by their zeros from the same indexes as the others.

    Set-based and once per month: `community_month_kpi_fill` records the highest community
    id done, so a later read adds only communities created since. Commits (a row of zeros
    changes no figure anybody reads); concurrent fills skip each other's rows.
    """
    top, done = db.session.execute(
        sa.select(
            sa.select(sa.func.max(Community.id)).scalar_subquery(),
            sa.select(CommunityMonthKpiFill.up_to_community_id)
            .where(CommunityMonthKpiFill.month == month)
            .scalar_subquery(),
        )
    ).one()
    if top is None or (done is not None and done >= top):
        return
    before = sa.orm.aliased(CommunityMonthKpi, name="fill_before")
    year_ago = sa.orm.aliased(CommunityMonthKpi, name="fill_year_ago")
    zero_columns = list(ROW_COUNTERS)
    source = (
        sa.select(
            Community.id,
            sa.literal(month),
            *(sa.literal(0) for _ in zero_columns),
            Community.household_count,
            _zero(before.orders_created),
            _zero(before.complaints),
            _zero(year_ago.orders_created),
            _zero(year_ago.complaints),
        )
        .select_from(Community)
        .outerjoin(
            before,
            sa.and_(before.community_id == Community.id, before.month == shift_month(month, -1)),
        )
        .outerjoin(
            year_ago,
            sa.and_(
                year_ago.community_id == Community.id, year_ago.month == shift_month(month, -12)
            ),
        )
        .where(Community.id > (done or 0), Community.id <= top)
        .order_by(Community.id)
    )
    columns = [
        "community_id",
        "month",
        *zero_columns,
        "households",
        "orders_before",
        "complaints_before",
        "orders_year_ago",
        "complaints_year_ago",
    ]
    insert = dialect_insert()
    db.session.execute(
        insert(CommunityMonthKpi)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["community_id", "month"])
    )
    marker = insert(CommunityMonthKpiFill).values(month=month, up_to_community_id=top)
    db.session.execute(
        marker.on_conflict_do_update(
            index_elements=["month"],
            set_={
                "up_to_community_id": sa.case(
                    (
                        CommunityMonthKpiFill.up_to_community_id > top,
                        CommunityMonthKpiFill.up_to_community_id,
                    ),
                    else_=top,
                )
            },
        )
    )
    db.session.commit()


def _filters(principal: Principal, region: str | None, tier: str | None) -> list:
    conditions = [Community.status == CommunityStatus.ACTIVE, region_clause(principal)]
    if region:
        conditions.append(
            sa.or_(
                Community.province == region, Community.city == region, Community.district == region
            )
        )
    if tier:
        conditions.append(Community.tier == tier)
    return conditions


def _months_query(principal: Principal, month: str, region: str | None, tier: str | None):
    # Every active community appears, also one with no activity that month (its row of
    # zeros, fill_month): quiet communities belong at the bottom of the table, not outside it.
    return (
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
        .where(*_filters(principal, region, tier))
    )


def _key(sort: str, partial: bool):
    """The sort column, or None when every row's value is NULL (a comparison in a month
    still running): then the order is the community id's."""
    return None if partial and sort in CHANGES else SORTABLE[sort]


def table_query(
    principal: Principal,
    month: str,
    sort: str,
    descending: bool,
    region: str | None,
    tier: str | None = None,
    partial: bool = False,
) -> sa.Select:
    """Every row for the month, with the month before and a year before, sorted by any KPI;
    undefined values last whichever the direction (the CSV export; pages use table_page).
    Call fill_month(month) first."""
    stmt = _months_query(principal, month, region, tier)
    key = _key(sort, partial)
    if key is None:
        return stmt.order_by(Community.id)
    return stmt.order_by(
        key.desc().nulls_last() if descending else key.asc().nulls_last(), Community.id
    )


def _page(month: str, sort: str, descending: bool, filters: list, offset: int, limit: int):
    """One page of community ids, read from the month's own rows, as a subquery with the
    order to keep (its columns: community_id, unknown, figure).

    Each key's index gives its top rows directly, so only offset + limit entries are read,
    not every community's three months; a figure that can be undefined is read as two
    limited parts, defined values in order, then undefined ones by id, merged."""
    base = (
        sa.select(Now.community_id)
        .join(Community, Community.id == Now.community_id)
        .where(Now.month == month, *filters)
    )
    key = SORTABLE[sort]

    def direction(column):
        return column.desc() if descending else column.asc()

    if sort not in UNDEFINABLE:  # counters and the id: never NULL, one index scan
        page = (
            base.add_columns(key.label("figure"), sa.literal(0).label("unknown"))
            .order_by(direction(key), Now.community_id)
            .offset(offset)
            .limit(limit)
            .subquery("page")
        )
    else:
        wanted = offset + limit
        known = (
            base.add_columns(key.label("figure"), sa.literal(0).label("unknown"))
            .where(key.is_not(None))
            .order_by(direction(key), Now.community_id)
            .limit(wanted)
            .subquery()
        )
        unknown = (
            base.add_columns(
                sa.cast(sa.null(), sa.Float).label("figure"), sa.literal(1).label("unknown")
            )
            .where(key.is_(None))
            .order_by(key, Now.community_id)  # = by id; the order of the figure's index
            .limit(wanted)
            .subquery()
        )
        both = sa.union_all(sa.select(known), sa.select(unknown)).subquery()
        page = (
            sa.select(both)
            .order_by(both.c.unknown, direction(both.c.figure), both.c.community_id)
            .offset(offset)
            .limit(limit)
            .subquery("page")
        )
    return page, [page.c.unknown, direction(page.c.figure), page.c.community_id]


def table_page(
    principal: Principal,
    month: str,
    sort: str,
    descending: bool,
    region: str | None,
    tier: str | None,
    partial: bool,
    page: int,
    page_size: int,
) -> dict:
    """One page of the table (the same order as table_query) and the number of rows: the
    page's ids first, then the month before and a year before joined for those rows only."""
    fill_month(month)
    filters = _filters(principal, region, tier)
    total = db.session.scalar(sa.select(sa.func.count(Community.id)).where(*filters))
    if _key(sort, partial) is None:  # every value NULL: the order is the ids'
        sort, descending = "community_id", False
    ids, order = _page(month, sort, descending, filters, (page - 1) * page_size, page_size)
    rows = db.session.execute(
        sa.select(Now, Community, Before, YearAgo)
        .select_from(ids)
        .join(Now, sa.and_(Now.community_id == ids.c.community_id, Now.month == month))
        .join(Community, Community.id == ids.c.community_id)
        .outerjoin(
            Before,
            sa.and_(
                Before.community_id == ids.c.community_id, Before.month == shift_month(month, -1)
            ),
        )
        .outerjoin(
            YearAgo,
            sa.and_(
                YearAgo.community_id == ids.c.community_id,
                YearAgo.month == shift_month(month, -12),
            ),
        )
        .order_by(*order)
    )
    convert = row_for(month, partial)
    items = [convert(*row) for row in rows]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


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
    """A month's counters, or None for no month: no row, or a quiet row of zeros."""
    if kpi is None:
        return None
    counts = {name: getattr(kpi, name) or 0 for name in ROW_COUNTERS}
    return counts if any(counts.values()) else None


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

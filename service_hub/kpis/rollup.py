"""Keep per-community and per-engineer monthly counters current, and rebuild them from raw
events.

The incremental path (`count_event`, `count_rating`, `count_breaches`) and the rebuild read
the same facts: order events by their action and time, reviews by their time, SLA breaches by
their time, each in its local month.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa

from models import (
    Community,
    CommunityMonthKpi,
    CommunityMonthResident,
    EngineerMonthKpi,
    OrderEvent,
    Review,
    ServiceOrder,
    SlaBreach,
)
from models.kpi import (
    CommunityMonthKpiFill,
    context_values,
    pass_on,
    pass_on_statement,
    shift_month,
)
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import dialect_insert, insert_ignoring_duplicates, upsert_increment
from service_hub.plumbing.timefmt import month_of

# order event action → counter it increments
ACTION_COUNTERS = {
    "create": "orders_created",
    "complete": "orders_completed",
    "cancel": "orders_cancelled",
    "complain": "complaints",
    "urge": "urges",
    "second_visit": "repeat_visits",  # on the first order: its fix did not hold
    "dispute": "disputes",  # the resident disputes completed work (验收异议)
}
ACCEPT_ACTIONS = ("accept", "assign", "book")  # the order has its engineer from now on
ARRIVAL_ACTION = "start"  # the engineer is at the door
ON_TIME_GRACE = timedelta(minutes=15)
COUNTED_ACTIONS = (*ACTION_COUNTERS, *ACCEPT_ACTIONS, ARRIVAL_ACTION)
COUNTERS = (
    "orders_created",
    "orders_completed",
    "orders_cancelled",
    "complaints",
    "rating_sum",
    "rating_count",
    "accepted",
    "accept_seconds",
    "arrivals_with_window",
    "arrivals_on_time",
    "active_residents",
    "sla_breaches",
    "urges",
    "repeat_visits",
    "disputes",
)
# Counters that later months compare with (环比, 同比): kept in their rows' context too.
PASSED_ON = frozenset({"orders_created", "complaints"})
# Per engineer: order event action → counter, for the engineer the order had at the event
# (an urge before anyone accepted the order is nobody's). First-time fix rate =
# 1 - repeat_visits / orders_completed. SLA breaches come from sla_breach rows.
ENGINEER_ACTION_COUNTERS = {
    "complete": "orders_completed",
    "urge": "urges",
    "second_visit": "repeat_visits",
    "dispute": "disputes",
}
ENGINEER_COUNTERS = ("orders_completed", "sla_breaches", "urges", "repeat_visits", "disputes")


def increments_for(
    action: str, at: datetime, order_created_at: datetime, window_start: datetime | None
) -> dict[str, int]:
    """What one order event adds to its month's counters (the incremental path and the
    rebuild both use this, so they cannot disagree)."""
    if action in ACTION_COUNTERS:
        return {ACTION_COUNTERS[action]: 1}
    if action in ACCEPT_ACTIONS:
        return {
            "accepted": 1,
            "accept_seconds": max(0, int((at - order_created_at).total_seconds())),
        }
    if action == ARRIVAL_ACTION and window_start is not None:
        return {
            "arrivals_with_window": 1,
            "arrivals_on_time": int(at <= window_start + ON_TIME_GRACE),
        }
    return {}


def engineer_at(engineer_id: int | None, accepted_at: datetime | None, at: datetime) -> int | None:
    """The engineer an order had at a moment: its engineer once accepted (an order's engineer
    never changes after acceptance), nobody before."""
    if engineer_id is None or accepted_at is None or at < accepted_at:
        return None
    return engineer_id


def _bump_engineer(engineer_id: int, moment: datetime, increments: dict[str, int]) -> None:
    upsert_increment(
        EngineerMonthKpi,
        {"engineer_id": engineer_id, "month": month_of(moment)},
        {**dict.fromkeys(ENGINEER_COUNTERS, 0), **increments},
        ["engineer_id", "month"],
    )


def _bump(community_id: int, moment: datetime, increments: dict[str, int]) -> None:
    _bump_month(community_id, month_of(moment), increments)


def _bump_month(community_id: int, month: str, increments: dict[str, int]) -> None:
    """Add to a community's month in one atomic upsert; a new row gets its context (the
    households, the month before, a year before) as it is inserted, and a change of orders
    or complaints is passed on to the month after and the year after (their 环比/同比).

    Every order event runs this, and SQLAlchemy never caches an INSERT … ON CONFLICT (its
    dialect inserts set inherit_cache = False): building and compiling it took a third of
    an order's creation. So it is built with bound parameters and compiled once per shape
    (backend, counters moved, passed on or not), then run with this call's values."""
    dialect = db.session.get_bind().dialect
    names = tuple(sorted(increments))
    passes = bool(increments.keys() & PASSED_ON)
    shape = (dialect.name, names, passes)
    compiled = _BUMPS.get(shape)
    if compiled is None:
        compiled = _BUMPS[shape] = _compile_bump(dialect, names, passes)
    values = {
        "p_community_id": community_id,
        "p_month": month,
        "p_before": shift_month(month, -1),
        "p_year_ago": shift_month(month, -12),
        "p_after": shift_month(month, 1),
        "p_year_after": shift_month(month, 12),
        **{f"p_inc_{name}": n for name, n in increments.items()},
    }
    _run_compiled(compiled, values)
    if passes and dialect.name != "postgresql":
        pass_on(db.session, community_id, month)


# (backend, counters moved, passed on) → (SQL, parameter order or None, constant parameters)
_BUMPS: dict[tuple, tuple[str, tuple[str, ...] | None, dict]] = {}


def _compile_bump(dialect, names: tuple[str, ...], passes: bool):
    table = CommunityMonthKpi.__table__
    community_id = sa.bindparam("p_community_id", type_=sa.Integer)
    stmt = dialect_insert()(CommunityMonthKpi).values(
        {
            "community_id": community_id,
            "month": sa.bindparam("p_month", type_=sa.String),
            **dict.fromkeys(COUNTERS, 0),
            **{name: sa.bindparam(f"p_inc_{name}", type_=sa.Integer) for name in names},
            **context_values(
                community_id,
                None,
                before=sa.bindparam("p_before", type_=sa.String),
                year_ago=sa.bindparam("p_year_ago", type_=sa.String),
            ),
        }
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=["community_id", "month"],
        set_={
            name: table.c[name] + sa.bindparam(f"p_inc_{name}", type_=sa.Integer) for name in names
        },
    )
    if passes and dialect.name == "postgresql":
        # One round trip: the upsert as a data-modifying CTE whose new counts the UPDATE of
        # the later months reads.
        bumped = upsert.returning(table.c.orders_created, table.c.complaints).cte("bumped")
        orders = sa.select(bumped.c.orders_created).scalar_subquery()
        complaints = sa.select(bumped.c.complaints).scalar_subquery()
        statement = pass_on_statement(
            community_id,
            None,
            orders,
            complaints,
            after=sa.bindparam("p_after", type_=sa.String),
            year_after=sa.bindparam("p_year_after", type_=sa.String),
        ).add_cte(bumped)
    else:
        statement = upsert
    compiled = statement.compile(dialect=dialect)
    constants = {k: v for k, v in compiled.params.items() if not k.startswith("p_")}
    order = tuple(compiled.positiontup) if compiled.positional else None
    return compiled.string, order, constants


def _run_compiled(compiled, values: dict) -> None:
    sql, order, constants = compiled
    merged = {**constants, **values}
    parameters = tuple(merged[name] for name in order) if order is not None else merged
    db.session.connection().exec_driver_sql(sql, parameters)


def count_event(event: OrderEvent, order: ServiceOrder) -> None:
    """Count an order event in its community's month, in the caller's transaction."""
    increments = increments_for(event.action, event.at, order.created_at, order.window_start)
    if event.action == "create":
        new = insert_ignoring_duplicates(
            CommunityMonthResident,
            [
                {
                    "community_id": event.community_id,
                    "month": month_of(event.at),
                    "resident_id": order.resident_id,
                }
            ],
            ["community_id", "month", "resident_id"],
        )
        increments["active_residents"] = new
    if increments:
        _bump(event.community_id, event.at, increments)
    engineer_id = engineer_at(order.engineer_id, order.accepted_at, event.at)
    if event.action in ENGINEER_ACTION_COUNTERS and engineer_id is not None:
        _bump_engineer(engineer_id, event.at, {ENGINEER_ACTION_COUNTERS[event.action]: 1})


def count_breaches(breaches: list) -> None:
    """Count SLA breaches (new sla_breach rows, or rows with their community_id, engineer_id
    and breached_at) in their community's and engineer's month, in
    the caller's transaction: communities first, then engineers, each in id order, so two
    transactions counting at once take the rows' locks in the same order."""
    communities: dict[tuple[int, str], int] = defaultdict(int)
    engineers: dict[tuple[int, str], int] = defaultdict(int)
    for breach in breaches:
        communities[(breach.community_id, month_of(breach.breached_at))] += 1
        if breach.engineer_id is not None:
            engineers[(breach.engineer_id, month_of(breach.breached_at))] += 1
    for (community_id, month), n in sorted(communities.items()):
        _bump_month(community_id, month, {"sla_breaches": n})
    for (engineer_id, month), n in sorted(engineers.items()):
        upsert_increment(
            EngineerMonthKpi,
            {"engineer_id": engineer_id, "month": month},
            {**dict.fromkeys(ENGINEER_COUNTERS, 0), "sla_breaches": n},
            ["engineer_id", "month"],
        )


def count_rating(review: Review) -> None:
    """Count a review's rating in its community's month, in the caller's transaction."""
    _bump(review.community_id, review.created_at, {"rating_sum": review.rating, "rating_count": 1})


def count_rating_change(review: Review, delta: int) -> None:
    """An edited rating moves the sum of the month the review was first counted in."""
    _bump(review.community_id, review.created_at, {"rating_sum": delta})


def rebuild(progress=None) -> int:
    """Recompute every rollup from order events, reviews and SLA breaches; returns the
    community rows written.

    Streams the raw rows, so memory grows with communities × months, not with orders.
    """
    totals: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    by_engineer: dict[tuple[int, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(ENGINEER_COUNTERS, 0)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Events that commit while we rebuild wait for this lock and bump the rebuilt rows
        # afterwards; events committed before it are in what we read. None is lost.
        db.session.execute(
            sa.text(
                "LOCK TABLE community_month_kpi, community_month_resident, engineer_month_kpi "
                "IN EXCLUSIVE MODE"
            )
        )
    events = db.session.execute(
        sa.select(
            OrderEvent.community_id,
            OrderEvent.action,
            OrderEvent.at,
            ServiceOrder.created_at,
            ServiceOrder.window_start,
            ServiceOrder.resident_id,
            ServiceOrder.engineer_id,
            ServiceOrder.accepted_at,
        )
        .join(ServiceOrder, ServiceOrder.id == OrderEvent.order_id)
        .where(OrderEvent.action.in_(COUNTED_ACTIONS))
        .execution_options(yield_per=5000)
    )
    active: set[tuple[int, str, int]] = set()
    for n, (
        community_id,
        action,
        at,
        created_at,
        window_start,
        resident_id,
        *engineer,
    ) in enumerate(events, 1):
        month = month_of(at)
        row = totals[(community_id, month)]
        for name, value in increments_for(action, at, created_at, window_start).items():
            row[name] += value
        engineer_id = engineer_at(*engineer, at)
        if action in ENGINEER_ACTION_COUNTERS and engineer_id is not None:
            by_engineer[(engineer_id, month)][ENGINEER_ACTION_COUNTERS[action]] += 1
        if action == "create" and (community_id, month, resident_id) not in active:
            active.add((community_id, month, resident_id))
            row["active_residents"] += 1
        if progress and n % 50_000 == 0:
            progress(f"{n} order events read")
    reviews = db.session.execute(
        sa.select(Review.community_id, Review.rating, Review.created_at).execution_options(
            yield_per=5000
        )
    )
    for community_id, rating, created_at in reviews:
        row = totals[(community_id, month_of(created_at))]
        row["rating_sum"] += rating
        row["rating_count"] += 1
    breaches = db.session.execute(
        sa.select(SlaBreach.community_id, SlaBreach.engineer_id, SlaBreach.breached_at)
    )
    for community_id, engineer_id, breached_at in breaches:
        totals[(community_id, month_of(breached_at))]["sla_breaches"] += 1
        if engineer_id is not None:
            by_engineer[(engineer_id, month_of(breached_at))]["sla_breaches"] += 1
    db.session.execute(sa.delete(CommunityMonthKpi))
    db.session.execute(sa.delete(CommunityMonthKpiFill))  # quiet rows come back when read
    db.session.execute(sa.delete(CommunityMonthResident))
    db.session.execute(sa.delete(EngineerMonthKpi))
    households = dict(db.session.execute(sa.select(Community.id, Community.household_count)).all())
    zero = dict.fromkeys(COUNTERS, 0)

    def context(community_id: int, month: str) -> dict[str, int]:
        before = totals.get((community_id, shift_month(month, -1)), zero)
        year_ago = totals.get((community_id, shift_month(month, -12)), zero)
        return {
            "households": households.get(community_id) or 0,
            "orders_before": before["orders_created"],
            "complaints_before": before["complaints"],
            "orders_year_ago": year_ago["orders_created"],
            "complaints_year_ago": year_ago["complaints"],
        }

    rows = [
        {"community_id": c, "month": m, **counts, **context(c, m)}
        for (c, m), counts in list(totals.items())
    ]
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(CommunityMonthKpi), rows[start : start + 1000])
    engineer_rows = [{"engineer_id": e, "month": m, **n} for (e, m), n in by_engineer.items()]
    for start in range(0, len(engineer_rows), 1000):
        db.session.execute(sa.insert(EngineerMonthKpi), engineer_rows[start : start + 1000])
    members = [{"community_id": c, "month": m, "resident_id": r} for c, m, r in active]
    for start in range(0, len(members), 5000):
        db.session.execute(sa.insert(CommunityMonthResident), members[start : start + 5000])
    db.session.commit()
    return len(rows)


def refresh_context(months: list[str] | None = None) -> None:
    """Set every row's context (households, the month before, a year before) from the
    communities and the other rows, set-based, month by month (all months by default):
    for rows loaded in bulk rather than through the rollup. The caller commits."""
    kpi = CommunityMonthKpi.__table__
    other = kpi.alias("other")
    if months is None:
        months = list(db.session.scalars(sa.select(kpi.c.month).distinct()))

    def counter(name: str, at: str):
        return sa.func.coalesce(
            sa.select(other.c[name])
            .where(other.c.community_id == kpi.c.community_id, other.c.month == at)
            .scalar_subquery(),
            0,
        )

    households = (
        sa.select(Community.household_count)
        .where(Community.id == kpi.c.community_id)
        .scalar_subquery()
    )
    for month in months:
        before, year_ago = shift_month(month, -1), shift_month(month, -12)
        db.session.execute(
            kpi.update()
            .where(kpi.c.month == month)
            .values(
                households=sa.func.coalesce(households, 0),
                orders_before=counter("orders_created", before),
                complaints_before=counter("complaints", before),
                orders_year_ago=counter("orders_created", year_ago),
                complaints_year_ago=counter("complaints", year_ago),
            )
        )

"""Per-community monthly KPI rollups, maintained as events happen.

Each (community, month) row keeps its counters and, next to them, what the managers' table
sorts by (docs/kpis.md, "Sorting at scale"): the community's household count and the
previous month's and the year-before's orders and complaints (kept by the rollup, by the
rebuild, by a trigger on community.household_count and, for rows written through the ORM,
by the hooks below), and generated columns with every derived figure, each indexed with
(month, figure, community_id) and (month, figure, community_id DESC). The table page then
reads the top of one index instead of joining every community with three months.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.plumbing.extensions import db

# The satisfaction index's Bayesian prior rating and its weight in reviews (the one place it
# is written; service_hub/kpis/measures.py reads it from here).
SATISFACTION_PRIOR = (4.0, 5)
_PRIOR, _WEIGHT = SATISFACTION_PRIOR


def _change(now: str, then: str) -> str:
    return f"({now} - {then}) * 1.0 / NULLIF({then}, 0)"


# Derived figures as SQL over one row (the same formulas as service_hub/kpis/measures.py,
# unrounded); NULL where the figure is undefined. Generated columns, so they can never
# disagree with the counters.
FIGURES: dict[str, str] = {
    "orders_per_1000": "orders_created * 1000.0 / NULLIF(households, 0)",
    "complaints_per_1000": "complaints * 1000.0 / NULLIF(households, 0)",
    "orders_mom": _change("orders_created", "orders_before"),
    "orders_yoy": _change("orders_created", "orders_year_ago"),
    "complaints_mom": _change("complaints", "complaints_before"),
    "complaints_yoy": _change("complaints", "complaints_year_ago"),
    # The change of a per-1,000 rate is the change of its count (same households), when
    # the rate is defined.
    "orders_per_1000_mom": "CASE WHEN households > 0 THEN "
    + _change("orders_created", "orders_before")
    + " END",
    "complaints_per_1000_mom": "CASE WHEN households > 0 THEN "
    + _change("complaints", "complaints_before")
    + " END",
    "average_rating": "rating_sum * 1.0 / NULLIF(rating_count, 0)",
    "accept_minutes": "accept_seconds / 60.0 / NULLIF(accepted, 0)",
    "on_time_rate": "arrivals_on_time * 1.0 / NULLIF(arrivals_with_window, 0)",
    "first_time_fix_rate": "CASE WHEN orders_completed > 0 THEN CASE WHEN repeat_visits "
    "> orders_completed THEN 0.0 ELSE 1 - repeat_visits * 1.0 / orders_completed END END",
    "satisfaction_index": (
        "CASE WHEN rating_count > 0 THEN 100 * ("
        f"0.5 * (({_PRIOR} * {_WEIGHT} + rating_sum) * 1.0 / ({_WEIGHT} + rating_count) - 1) / 4"
        " + 0.3 * (1 - CASE WHEN 5 * complaints > CASE WHEN orders_completed > 1"
        " THEN orders_completed ELSE 1 END THEN 1.0 ELSE 5.0 * complaints / CASE WHEN"
        " orders_completed > 1 THEN orders_completed ELSE 1 END END)"
        " + 0.2 * CASE WHEN arrivals_with_window > 0"
        " THEN arrivals_on_time * 1.0 / arrivals_with_window ELSE 1.0 END) END"
    ),
}
# Counters the table sorts by as they are.
SORTED_COUNTERS = (
    "orders_created",
    "orders_completed",
    "orders_cancelled",
    "complaints",
    "active_residents",
    "sla_breaches",
    "urges",
    "repeat_visits",
    "disputes",
)
# Every column with (month, column, community_id) and (month, column, community_id DESC)
# indexes.
INDEXED = (*SORTED_COUNTERS, *FIGURES, "households")


def _figure(name: str):
    return mapped_column(sa.Float, sa.Computed(FIGURES[name]), nullable=True)


class CommunityMonthKpi(db.Model):
    """Counters for one community in one local calendar month ("YYYY-MM")."""

    __tablename__ = "community_month_kpi"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    month: Mapped[str] = mapped_column(sa.String(7))
    orders_created: Mapped[int] = mapped_column(default=0)
    orders_completed: Mapped[int] = mapped_column(default=0)
    orders_cancelled: Mapped[int] = mapped_column(default=0)
    complaints: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    # Creation → acceptance, counted in the month of acceptance.
    accepted: Mapped[int] = mapped_column(default=0)
    accept_seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Arrivals (service started) of orders that asked for a window, and those on time.
    arrivals_with_window: Mapped[int] = mapped_column(default=0)
    arrivals_on_time: Mapped[int] = mapped_column(default=0)
    # Residents who requested at least one service this month (see CommunityMonthResident).
    active_residents: Mapped[int] = mapped_column(default=0)
    # Promises (SLA) broken, counted in the month of the breach.
    sla_breaches: Mapped[int] = mapped_column(default=0)
    # Residents' urges (催单), in the month urged.
    urges: Mapped[int] = mapped_column(default=0)
    # Second visits (二次上门) created, in the month created: first-time fix = 1 - these over
    # orders completed.
    repeat_visits: Mapped[int] = mapped_column(default=0)
    # Residents' disputes of completed work (验收异议), in the month disputed.
    disputes: Mapped[int] = mapped_column(default=0)
    # Context for sorting (not counters): community.household_count, and orders and
    # complaints of the month before and of the same month a year before (0 without a row).
    households: Mapped[int] = mapped_column(default=0, server_default="0")
    orders_before: Mapped[int] = mapped_column(default=0, server_default="0")
    complaints_before: Mapped[int] = mapped_column(default=0, server_default="0")
    orders_year_ago: Mapped[int] = mapped_column(default=0, server_default="0")
    complaints_year_ago: Mapped[int] = mapped_column(default=0, server_default="0")
    # Derived figures (FIGURES), generated by the database.
    orders_per_1000: Mapped[float | None] = _figure("orders_per_1000")
    complaints_per_1000: Mapped[float | None] = _figure("complaints_per_1000")
    orders_mom: Mapped[float | None] = _figure("orders_mom")
    orders_yoy: Mapped[float | None] = _figure("orders_yoy")
    complaints_mom: Mapped[float | None] = _figure("complaints_mom")
    complaints_yoy: Mapped[float | None] = _figure("complaints_yoy")
    orders_per_1000_mom: Mapped[float | None] = _figure("orders_per_1000_mom")
    complaints_per_1000_mom: Mapped[float | None] = _figure("complaints_per_1000_mom")
    average_rating: Mapped[float | None] = _figure("average_rating")
    accept_minutes: Mapped[float | None] = _figure("accept_minutes")
    on_time_rate: Mapped[float | None] = _figure("on_time_rate")
    first_time_fix_rate: Mapped[float | None] = _figure("first_time_fix_rate")
    satisfaction_index: Mapped[float | None] = _figure("satisfaction_index")

    __table_args__ = (
        sa.UniqueConstraint("community_id", "month"),
        sa.Index("ix_community_month_kpi_month_community", "month", "community_id"),
        # Two per sort key, because ties go by community id ascending in both directions:
        # read forwards, (month, figure, community_id) gives the ascending order; read
        # backwards, (month, figure, community_id DESC) (below) gives the descending one.
        *(
            sa.Index(f"ix_community_month_kpi_{name}", "month", name, "community_id")
            for name in INDEXED
        ),
    )


_table = CommunityMonthKpi.__table__
for _name in INDEXED:
    sa.Index(
        f"ix_community_month_kpi_{_name}_desc",
        _table.c.month,
        _table.c[_name],
        _table.c.community_id.desc(),
    )


class CommunityMonthKpiFill(db.Model):
    """How far a month's rows are complete: every community with an id up to
    `up_to_community_id` has a row in `month` (a quiet one has zeros), created when the
    table is first read for that month (service_hub/kpis/queries.fill_month)."""

    __tablename__ = "community_month_kpi_fill"

    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    up_to_community_id: Mapped[int]


def shift_month(month: str, months: int) -> str:
    """ "2026-03" shifted by -1 → "2026-02"."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def context_values(community_id, month: str | None, before=None, year_ago=None) -> dict:
    """A row's context as SQL: the community's households, and orders and complaints of the
    month before and of a year before (0 without a row). `community_id`, `before` and
    `year_ago` may be bound parameters (a statement compiled once: kpis/rollup.py)."""
    kpi = CommunityMonthKpi.__table__.alias("neighbour")
    community = sa.table("community", sa.column("id"), sa.column("household_count"))

    def counter(name: str, at: str):
        return sa.func.coalesce(
            sa.select(kpi.c[name])
            .where(kpi.c.community_id == community_id, kpi.c.month == at)
            .scalar_subquery(),
            0,
        )

    if before is None:
        before, year_ago = shift_month(month, -1), shift_month(month, -12)
    return {
        "households": sa.func.coalesce(
            sa.select(community.c.household_count)
            .where(community.c.id == community_id)
            .scalar_subquery(),
            0,
        ),
        "orders_before": counter("orders_created", before),
        "complaints_before": counter("complaints", before),
        "orders_year_ago": counter("orders_created", year_ago),
        "complaints_year_ago": counter("complaints", year_ago),
    }


def settle_context(connection, community_id: int, month: str) -> None:
    """Set a row's context from its neighbours and pass its orders and complaints on to the
    rows that compare with it: after a row is written other than by the rollup's upsert."""
    kpi = CommunityMonthKpi.__table__
    connection.execute(
        kpi.update()
        .where(kpi.c.community_id == community_id, kpi.c.month == month)
        .values(context_values(community_id, month))
    )
    pass_on(connection, community_id, month)


def pass_on_statement(
    community_id, month: str | None, orders, complaints, after=None, year_after=None
) -> sa.Update:
    """The UPDATE that sets the month after's `*_before` and the year after's `*_year_ago`
    of a community to `orders` and `complaints` (SQL: the month's values, set from the row,
    not moved by ±1, so a repeat is harmless); one statement for both rows."""
    kpi = CommunityMonthKpi.__table__
    if after is None:
        after, year_after = shift_month(month, 1), shift_month(month, 12)

    def set_in(later: str, column: str, value):
        return sa.case((kpi.c.month == later, value), else_=kpi.c[column])

    return (
        kpi.update()
        .where(kpi.c.community_id == community_id, kpi.c.month.in_([after, year_after]))
        .values(
            orders_before=set_in(after, "orders_before", orders),
            complaints_before=set_in(after, "complaints_before", complaints),
            orders_year_ago=set_in(year_after, "orders_year_ago", orders),
            complaints_year_ago=set_in(year_after, "complaints_year_ago", complaints),
        )
    )


def pass_on(connection, community_id: int, month: str) -> None:
    """Pass a row's orders and complaints on to the rows that compare with it."""
    source = CommunityMonthKpi.__table__.alias("source")

    def counter(name: str):
        return sa.func.coalesce(
            sa.select(source.c[name])
            .where(source.c.community_id == community_id, source.c.month == month)
            .scalar_subquery(),
            0,
        )

    connection.execute(
        pass_on_statement(community_id, month, counter("orders_created"), counter("complaints"))
    )


@sa.event.listens_for(CommunityMonthKpi, "after_insert")
def _settle_inserted(_mapper, connection, row: CommunityMonthKpi) -> None:
    settle_context(connection, row.community_id, row.month)


@sa.event.listens_for(CommunityMonthKpi, "after_update")
def _settle_updated(_mapper, connection, row: CommunityMonthKpi) -> None:
    pass_on(connection, row.community_id, row.month)


class CommunityMonthResident(db.Model):
    """A resident active in a community in a month; makes active_residents exact."""

    __tablename__ = "community_month_resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    month: Mapped[str] = mapped_column(sa.String(7))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))

    __table_args__ = (sa.UniqueConstraint("community_id", "month", "resident_id"),)


class EngineerMonthKpi(db.Model):
    """Counters for one engineer in one local calendar month ("YYYY-MM")."""

    __tablename__ = "engineer_month_kpi"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"))
    month: Mapped[str] = mapped_column(sa.String(7))
    orders_completed: Mapped[int] = mapped_column(default=0)
    sla_breaches: Mapped[int] = mapped_column(default=0)
    urges: Mapped[int] = mapped_column(default=0)
    repeat_visits: Mapped[int] = mapped_column(default=0)
    disputes: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("engineer_id", "month"),)

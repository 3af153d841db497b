"""Per-community monthly KPI rollups, maintained as events happen."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.plumbing.extensions import db


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

    __table_args__ = (
        sa.UniqueConstraint("community_id", "month"),
        sa.Index("ix_community_month_kpi_month", "month"),
    )


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

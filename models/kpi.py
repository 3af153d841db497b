"""Per-community monthly KPI rollups, maintained as events happen."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service_hub.extensions import db


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

    __table_args__ = (
        sa.UniqueConstraint("community_id", "month"),
        sa.Index("ix_community_month_kpi_month", "month"),
    )

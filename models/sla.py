"""Promises kept (SLA): each step of an order that missed its deadline, recorded once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class SlaBreach(db.Model):
    """One step of one order that missed its deadline: recorded once (unique), counted once
    in the monthly KPIs of its community and, for arrive and complete, its engineer."""

    __tablename__ = "sla_breach"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"))
    step: Mapped[str] = mapped_column(sa.String(16))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    # The engineer answerable for the step (none for accept: that is dispatch's).
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineer.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("order_id", "step"),)

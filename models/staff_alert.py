"""Alerts for the managers of a region: orders that broke or are about to break a promise."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class StaffAlertKind(StrEnum):
    """What an alert is about."""

    SLA_BREACHED = "sla_breached"  # an order missed a step's deadline
    UNASSIGNED_AT_RISK = "unassigned_at_risk"  # no engineer, acceptance deadline near


class StaffAlert(db.Model):
    """One alert, seen by the managers whose region includes its community (and admins)."""

    __tablename__ = "staff_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_order.id"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    text: Mapped[str] = mapped_column(sa.String(200))  # in Chinese, as managers read it
    # What makes it this alert and no other (e.g. "order:12:breach:arrive"): raised once.
    dedupe_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Newest first, then filtered by region through the community.
    __table_args__ = (sa.Index("ix_staff_alert_created", "created_at"),)


class StaffAlertRead(db.Model):
    """A staff member has read an alert (each reader keeps their own read state)."""

    __tablename__ = "staff_alert_read"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_alert.id"))
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("staff_user_id", "alert_id"),)

"""Follow-ups opened on complaints and disputes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class FollowUpStatus(StrEnum):
    """Whether a follow-up still needs a manager."""

    OPEN = "open"
    CLOSED = "closed"


class FollowUp(db.Model):
    """Something a manager should look at: a low rating, a complaint, or a dispute of
    completed work (the resident's acceptance, 验收)."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # low_rating, complaint or dispute
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineer.id"))
    summary: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16), default=FollowUpStatus.OPEN)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    closed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("kind", "order_id"),
        sa.Index("ix_follow_up_status_created", "status", "created_at"),
        # One community's follow-ups (its page in the dashboard), by status, oldest first.
        sa.Index("ix_follow_up_community_status_created", "community_id", "status", "created_at"),
    )

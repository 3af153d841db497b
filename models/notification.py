"""Each resident's in-app inbox (the outbox's row lives with the outbox:
service_hub/plumbing/outbox.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class InboxNotification(db.Model):
    """One message in a resident's in-app inbox; at most one per (resident, kind, event)."""

    __tablename__ = "inbox_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    event_key: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.String(500))
    page: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("resident_id", "kind", "event_key"),
        sa.Index("ix_inbox_notification_resident_created", "resident_id", "created_at"),
    )

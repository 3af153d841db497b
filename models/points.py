"""The points ledger."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class PointsEntry(db.Model):
    """One line of an append-only points ledger; the balance is the sum of the lines."""

    __tablename__ = "points_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(sa.String(16))  # engineer or resident
    owner_id: Mapped[int]
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(64))
    # The event that earned it ("order:42:butler"); unique per owner, so never twice.
    source_event: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("owner_kind", "owner_id", "source_event"),
        sa.Index("ix_points_entry_owner_created", "owner_kind", "owner_id", "created_at"),
    )

"""An engineer's reputation in a community: the standing (kept on the engineer's link to the
community) and residents' likes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class EngineerCommunity(db.Model):
    """An engineer serving a community, with their standing there."""

    __tablename__ = "engineer_community"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    # The engineer's standing in this community, 0..1 (docs/ranking.md), and what it is made
    # of; recomputed by jobs when reviews, complaints, likes or completions arrive.
    standing: Mapped[float] = mapped_column(default=0.5)
    completed_orders: Mapped[int] = mapped_column(default=0)
    standing_breakdown: Mapped[dict | None] = mapped_column(sa.JSON)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("engineer_id", "community_id"),)


class EngineerLike(db.Model):
    """A resident likes an engineer who served them (once; unliking deletes the row)."""

    __tablename__ = "engineer_like"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("resident_id", "engineer_id"),)

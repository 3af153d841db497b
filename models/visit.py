"""Engineer visits to a community, announced to every resident bound to it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.extensions import db


class Visit(db.Model):
    """An engineer's planned trip to a community (follow-on slots come with the dispatch issue)."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    # The order that brought the engineer here, when the visit grew out of one.
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Communities (小区) and the residents bound to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.extensions import db


class Community(db.Model):
    """A residential community: the unit of service and of assessment."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[str] = mapped_column(sa.String(32), index=True)
    district: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    lat: Mapped[float]
    lng: Mapped[float]
    household_count: Mapped[int] = mapped_column(default=0)
    tier: Mapped[str] = mapped_column(sa.String(8), default="B")
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("household_count >= 0", name="household_count_non_negative"),
    )


class CommunityBinding(db.Model):
    """A resident's membership of a community (a resident may hold several)."""

    __tablename__ = "community_binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("resident_id", "community_id"),)

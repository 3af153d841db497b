"""Communities (小区) and the residents bound to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.geo import cell_of


def _cell_from_coordinates(context) -> int:
    params = context.get_current_parameters()
    return cell_of(params["lat"], params["lng"])


class CommunityStatus(StrEnum):
    """Whether a community is served."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class Community(db.Model):
    """A residential community: the unit of service and of assessment."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    province: Mapped[str] = mapped_column(sa.String(32), index=True)
    city: Mapped[str] = mapped_column(sa.String(32), index=True)
    district: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    lat: Mapped[float]
    lng: Mapped[float]
    # Grid cell of (lat, lng) for the nearby lookup; see service_hub/plumbing/geo.py.
    geo_cell: Mapped[int] = mapped_column(sa.BigInteger, default=_cell_from_coordinates)
    household_count: Mapped[int] = mapped_column(default=0)
    tier: Mapped[str] = mapped_column(sa.String(8), default="B")
    status: Mapped[str] = mapped_column(sa.String(16), default=CommunityStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("household_count >= 0", name="household_count_non_negative"),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="coordinates_in_range"
        ),
        # Covers the nearby lookup's cell ranges and bounding box (docs/nearby.md).
        sa.Index("ix_community_geo_cell_lat_lng", "geo_cell", "lat", "lng"),
    )


@sa.event.listens_for(Community, "before_update")
def _keep_cell_in_step(_mapper, _connection, community: Community) -> None:
    community.geo_cell = cell_of(community.lat, community.lng)


class CommunityBinding(db.Model):
    """A resident's membership of a community (a resident may hold several)."""

    __tablename__ = "community_binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("resident_id", "community_id"),)

"""Engineer visits to a community, announced to every resident bound to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class VisitStatus(StrEnum):
    """Where a visit is: booked for its slot, or called off."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    """Whether a booking still holds its slot."""

    ACTIVE = "active"
    CANCELLED = "cancelled"


class Visit(db.Model):
    """An engineer's planned trip to a community, with slots residents can book (接续排期)."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    # The order that brought the engineer here, when the visit grew out of one.
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    # Service type ids residents may book on this visit; empty means any the engineer can do.
    service_type_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default=VisitStatus.SCHEDULED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VisitSlot(db.Model):
    """A bookable time on a visit; `booked` moves only by conditional UPDATE, so it never
    passes `capacity`."""

    __tablename__ = "visit_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(default=1)
    booked: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
    )


class Booking(db.Model):
    """A resident's follow-on slot on a visit, with the order it created (one per visit)."""

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_slot.id"), index=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=BookingStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        # One live booking per resident per visit; cancelled bookings stay as history, so a
        # resident who cancelled may book the same visit again.
        sa.Index(
            "uq_booking_active_visit_resident",
            "visit_id",
            "resident_id",
            unique=True,
            sqlite_where=sa.text(f"status = '{BookingStatus.ACTIVE}'"),
            postgresql_where=sa.text(f"status = '{BookingStatus.ACTIVE}'"),
        ),
    )

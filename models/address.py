"""Residents' address books: where in a bound community the engineer should knock."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class ResidentAddress(db.Model):
    """One door in one of the resident's bound communities, with who to ask for there.

    Orders keep a snapshot of it (ServiceOrder.address_text, contact_name, contact_mobile),
    so editing or deleting an address never rewrites an order's history."""

    __tablename__ = "resident_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    building: Mapped[str] = mapped_column(sa.String(16))  # 楼栋, e.g. "12" or "12号楼"
    unit: Mapped[str] = mapped_column(sa.String(16), default="")  # 单元
    room: Mapped[str] = mapped_column(sa.String(16))  # 室
    contact_name: Mapped[str] = mapped_column(sa.String(32))
    # Mainland mobile, 11 digits; shown masked (138****8000) except where docs/privacy says.
    mobile: Mapped[str] = mapped_column(sa.String(11))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # At most one default per resident (the rule keeps exactly one: service_hub/addresses).
        sa.Index(
            "uq_resident_address_default",
            "resident_id",
            unique=True,
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        ),
    )

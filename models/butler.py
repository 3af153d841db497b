"""Butler (管家) relationships: the QR codes engineers show and the bindings residents make."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class BindingStatus(StrEnum):
    """Whether a butler binding is the resident's current one."""

    ACTIVE = "active"
    ENDED = "ended"


class ButlerCode(db.Model):
    """A single-use, short-lived code an engineer shows as a mini-program QR (WeChat scene)."""

    __tablename__ = "butler_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    scene: Mapped[str] = mapped_column(sa.String(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(sa.ForeignKey("resident.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ButlerBinding(db.Model):
    """A resident's butler (管家): at most one active binding per resident."""

    __tablename__ = "butler_binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("butler_code.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default=BindingStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index(
            "uq_butler_binding_active_resident",
            "resident_id",
            unique=True,
            postgresql_where=sa.text(f"status = '{BindingStatus.ACTIVE}'"),
            sqlite_where=sa.text(f"status = '{BindingStatus.ACTIVE}'"),
        ),
    )


def active_butler_of(resident_id: int) -> int | None:
    """The engineer id of the resident's butler, or None: dispatch gives them priority."""
    return db.session.scalar(
        sa.select(ButlerBinding.engineer_id).where(
            ButlerBinding.resident_id == resident_id, ButlerBinding.status == BindingStatus.ACTIVE
        )
    )

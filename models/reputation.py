"""An engineer's reputation: likes, butler bindings and their codes, points, follow-ups."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.extensions import db


class EngineerLike(db.Model):
    """A resident likes an engineer who served them (once; unliking deletes the row)."""

    __tablename__ = "engineer_like"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("resident_id", "engineer_id"),)


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
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index(
            "uq_butler_binding_active_resident",
            "resident_id",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
    )


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


class FollowUp(db.Model):
    """Something a manager should look at: a low rating or a complaint."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # low_rating or complaint
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"))
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineer.id"))
    summary: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    note: Mapped[str | None] = mapped_column(sa.String(500))
    closed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("kind", "order_id"),
        sa.Index("ix_follow_up_status_created", "status", "created_at"),
    )

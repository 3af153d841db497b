"""Residents, staff accounts and engineers' profiles."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db

STAFF_ROLES = ("engineer", "manager", "admin")


class Resident(db.Model):
    """A mini-program user, known by their WeChat openid."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(sa.String(64))
    # Kept server-side only: needed to decrypt WeChat payloads, never sent to a client.
    session_key: Mapped[str | None] = mapped_column(sa.String(64))
    nickname: Mapped[str | None] = mapped_column(sa.String(64))
    avatar_url: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffUser(db.Model):
    """An engineer's, manager's or admin's sign-in account."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16))
    display_name: Mapped[str] = mapped_column(sa.String(64))
    # A manager scoped to a region sees only communities whose province or city matches it.
    region: Mapped[str | None] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("role IN ('engineer', 'manager', 'admin')", name="role_known"),
    )


class Engineer(db.Model):
    """A field engineer's working profile: the personal brand residents see."""

    __tablename__ = "engineer"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    bio: Mapped[str] = mapped_column(sa.String(500), default="")
    photo_url: Mapped[str | None] = mapped_column(sa.String(300))
    years_of_service: Mapped[int] = mapped_column(default=0)
    base_lat: Mapped[float]
    base_lng: Mapped[float]
    on_duty: Mapped[bool] = mapped_column(default=True)
    max_open_orders: Mapped[int | None]
    # {"days": [1..7 (Monday=1)], "start": "HH:MM", "end": "HH:MM"} in local time; None = any.
    working_hours: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EngineerSkill(db.Model):
    """A skill an engineer holds, with a level from 1 (junior) to 5 (master)."""

    __tablename__ = "engineer_skill"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    skill: Mapped[str] = mapped_column(sa.String(32))
    level: Mapped[int] = mapped_column(default=1)

    __table_args__ = (sa.UniqueConstraint("engineer_id", "skill"),)

"""A community's life: questions and answers, activities and sign-ups."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class ModerationStatus(StrEnum):
    """Moderation outcome of user text (questions, answers)."""

    VISIBLE = "visible"
    HELD = "held"  # held for staff review
    REJECTED = "rejected"  # rejected by staff


MODERATION_STATUSES = tuple(s.value for s in ModerationStatus)


class ActivityStatus(StrEnum):
    """Whether an activity takes sign-ups; open is the only state so far."""

    OPEN = "open"


class SignupStatus(StrEnum):
    """A resident's sign-up to an activity."""

    ACTIVE = "active"
    CANCELLED = "cancelled"
    ATTENDED = "attended"


class Question(db.Model):
    """A resident's question in one of their communities."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    text: Mapped[str] = mapped_column(sa.String(1000))
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default=ModerationStatus.VISIBLE)
    answer_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderation_reason: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (
        sa.Index("ix_question_community_status_created", "community_id", "status", "created_at"),
        # The staff review queue reads only held rows.
        sa.Index(
            "ix_question_held",
            "created_at",
            postgresql_where=sa.text(f"status = '{ModerationStatus.HELD}'"),
            sqlite_where=sa.text(f"status = '{ModerationStatus.HELD}'"),
        ),
    )


class Answer(db.Model):
    """An engineer's or customer-service answer to a question."""

    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id"), index=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineer.id"))
    text: Mapped[str] = mapped_column(sa.String(1000))
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default=ModerationStatus.VISIBLE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderation_reason: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (
        sa.Index(
            "ix_answer_held",
            "created_at",
            postgresql_where=sa.text(f"status = '{ModerationStatus.HELD}'"),
            sqlite_where=sa.text(f"status = '{ModerationStatus.HELD}'"),
        ),
    )


class Activity(db.Model):
    """A community activity (a talk, a free check-up day …) residents sign up for."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    place: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signup_opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signup_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int]
    # Kept in step with active sign-ups by a conditional UPDATE, so capacity holds under load.
    signed_up: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(16), default=ActivityStatus.OPEN)
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("signed_up >= 0 AND signed_up <= capacity", name="within_capacity"),
    )


class ActivityCommunity(db.Model):
    """An activity is open to the residents of these communities."""

    __tablename__ = "activity_community"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activity.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)

    __table_args__ = (sa.UniqueConstraint("activity_id", "community_id"),)


class ActivitySignup(db.Model):
    """A resident's place at an activity (one row per resident; cancelling keeps the row)."""

    __tablename__ = "activity_signup"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activity.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=SignupStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("activity_id", "resident_id"),)

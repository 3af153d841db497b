"""WeChat subscribe-message quota, residents' choices, and every message's delivery status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class DeliveryStatus(StrEnum):
    """What happened to one message on one channel."""

    QUEUED = "queued"
    READY = "ready"  # decided and its credit spent; claimed (sending) just before its request
    SENDING = "sending"  # claimed by a worker, WeChat not yet answered
    SENT = "sent"
    SKIPPED_NO_CREDIT = "skipped_no_credit"
    CAPPED = "capped"
    DEFERRED = "deferred"
    OPTED_OUT = "opted_out"
    FAILED = "failed"
    BLOCKED_DAILY_LIMIT = "blocked_daily_limit"


DELIVERY_STATUSES = tuple(s.value for s in DeliveryStatus)


class SubscriptionCredit(db.Model):
    """One accepted one-time subscription: allows exactly one WeChat send of that template."""

    __tablename__ = "subscription_credit"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    template_id: Mapped[str] = mapped_column(sa.String(64))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    spent_by: Mapped[int | None] = mapped_column(sa.ForeignKey("delivery.id"))

    __table_args__ = (
        sa.Index(
            "ix_subscription_credit_available",
            "resident_id",
            "template_id",
            postgresql_where=sa.text("spent_at IS NULL"),
            sqlite_where=sa.text("spent_at IS NULL"),
        ),
    )


class SubscriptionPrompt(db.Model):
    """What a resident answered to a subscribe prompt, per template (kept for audit)."""

    __tablename__ = "subscription_prompt"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    template_id: Mapped[str] = mapped_column(sa.String(64))
    result: Mapped[str] = mapped_column(sa.String(16))  # accept, reject, ban, filter
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationOptOut(db.Model):
    """A resident does not want WeChat messages of this kind (the inbox still gets them)."""

    __tablename__ = "notification_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("resident_id", "kind"),)


class Broadcast(db.Model):
    """One community-wide message: who it was for, and whether every delivery is recorded."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_message.id"), unique=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    event_key: Mapped[str] = mapped_column(sa.String(64))
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class Delivery(db.Model):
    """One message to one resident on the WeChat channel; at most one per (resident, kind,
    event), enforced by the database, so no re-run ever sends twice."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    event_key: Mapped[str] = mapped_column(sa.String(64))
    broadcast_id: Mapped[int | None] = mapped_column(sa.ForeignKey("broadcast.id"), index=True)
    urgency: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(24), default=DeliveryStatus.QUEUED)
    errcode: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("resident_id", "kind", "event_key"),
        # Frequency caps count a resident's recent marketing sends.
        sa.Index("ix_delivery_resident_sent", "resident_id", "sent_at"),
    )


class RuntimeFlag(db.Model):
    """A named switch with an expiry, e.g. WeChat's daily send limit was reached (45009)."""

    __tablename__ = "runtime_flag"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

"""Coupon campaigns, the coupons issued from them, and participation reward rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class CampaignStatus(StrEnum):
    """Where a coupon campaign is in its life."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class CouponStatus(StrEnum):
    """A coupon's stored state; EXPIRED is never stored, it is decided when read."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    SPENT = "spent"
    EXPIRED = "expired"


CAMPAIGN_STATUSES = tuple(s.value for s in CampaignStatus)
CAMPAIGN_CHANNELS = ("claim", "reward")  # residents claim it, or participation grants it
DISCOUNT_KINDS = ("fixed", "percent")
# Stored states ("expired" is decided when read).
COUPON_STATUSES = (
    CouponStatus.AVAILABLE.value,
    CouponStatus.RESERVED.value,
    CouponStatus.SPENT.value,
)
REWARD_EVENTS = ("review_with_photos", "activity_attended", "first_community_bound")


class CouponCampaign(db.Model):
    """A coupon template: its discount, stock, validity and the communities it targets."""

    __tablename__ = "coupon_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    channel: Mapped[str] = mapped_column(sa.String(8), default="claim")
    discount_kind: Mapped[str] = mapped_column(sa.String(8))
    amount_off_cents: Mapped[int | None]
    percent_off: Mapped[int | None]
    max_discount_cents: Mapped[int | None]
    min_spend_cents: Mapped[int] = mapped_column(default=0)
    # Service type ids the coupon applies to; empty means every service.
    service_type_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    total_stock: Mapped[int]
    # Moved only by one conditional UPDATE per issue, so it never passes total_stock.
    issued: Mapped[int] = mapped_column(default=0)
    per_resident_limit: Mapped[int] = mapped_column(default=1)
    # Claiming is open from starts_at until ends_at (open-ended when None).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Validity of an issued coupon: a fixed window, or valid_days from the moment it is issued.
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_days: Mapped[int | None]
    # Rules combined with AND (service_hub/coupons/targeting.py); {} reaches everyone in scope.
    targeting: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The creating manager's region: the campaign never reaches communities outside it.
    region_scope: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default=CampaignStatus.DRAFT)
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("issued >= 0 AND issued <= total_stock", name="within_stock"),
        sa.CheckConstraint("per_resident_limit >= 1", name="limit_positive"),
        sa.CheckConstraint(
            "(discount_kind = 'fixed' AND amount_off_cents > 0) OR "
            "(discount_kind = 'percent' AND percent_off BETWEEN 1 AND 99 "
            "AND max_discount_cents > 0)",
            name="discount_consistent",
        ),
        sa.CheckConstraint(
            "(valid_until IS NOT NULL AND valid_days IS NULL) OR "
            "(valid_until IS NULL AND valid_days > 0)",
            name="one_validity",
        ),
        sa.Index("ix_coupon_campaign_channel_status", "channel", "status"),
    )


class Coupon(db.Model):
    """One coupon a resident holds: claimed from a campaign or granted as a reward."""

    __tablename__ = "coupon"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("coupon_campaign.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"))
    # The community it was claimed through (or where the rewarded event happened).
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community.id"))
    # 1..per_resident_limit: the resident's n-th coupon of this campaign (unique, so the limit
    # holds in the database too).
    seq: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(8))  # claim or reward
    # "idem:<Idempotency-Key>" for a claim, "<event>:<id>" for a reward: never issued twice.
    grant_key: Mapped[str | None] = mapped_column(sa.String(80))
    # For a claim with an Idempotency-Key: sha256 of the claim request, so a repeat of the key
    # with another request is refused (service_hub/plumbing/idempotency.py).
    idempotency_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default=CouponStatus.AVAILABLE)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # The order holding (reserved) or having used (spent) it, and what it took off there.
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    discount_cents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expiry_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[CouponCampaign] = relationship(lazy="joined", innerjoin=True)
    # ServiceOrder.coupon (read-only): the coupon an order holds, shown with the order.
    order = relationship(
        "ServiceOrder", viewonly=True, backref=backref("coupon", uselist=False, viewonly=True)
    )

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "resident_id", "seq"),
        sa.UniqueConstraint("campaign_id", "resident_id", "grant_key"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
        sa.CheckConstraint(
            f"(status = '{CouponStatus.AVAILABLE}' AND order_id IS NULL) OR "
            f"(status IN ('{CouponStatus.RESERVED}', '{CouponStatus.SPENT}')"
            " AND order_id IS NOT NULL)",
            name="order_matches_status",
        ),
        sa.Index("ix_coupon_resident_created", "resident_id", "created_at"),
        sa.Index("ix_coupon_status_valid_until", "status", "valid_until"),
    )


class CouponRewardRule(db.Model):
    """Participation rewards as data: this event grants a coupon of this campaign."""

    __tablename__ = "coupon_reward_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(32))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("coupon_campaign.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("event", "campaign_id"),)

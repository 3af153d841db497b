"""What residents are told about their coupons, through the outbox and notifications/.

- `notify_coupon_granted`: a participation reward arrived (claims need no message: the
  resident is looking at the answer).
- `remind_expiring_coupons`: periodic; an available coupon whose validity ends within
  COUPON_EXPIRY_NOTICE_HOURS is announced once. The coupon's `expiry_notified_at` is set by
  one conditional UPDATE, so two runs at once tell each resident once; the outbox key
  `coupon:<id>:expiring` is unique as well.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from models import Coupon, CouponCampaign, CouponStatus
from models.base import utcnow
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay, record
from service_hub.plumbing.timefmt import local_datetime_text

REMINDER_BATCH = 1000


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}元"


def most_off_cents(campaign: CouponCampaign) -> int:
    """The most a coupon of this campaign can take off an order."""
    return campaign.amount_off_cents or campaign.max_discount_cents


def notify_coupon_granted(coupon: Coupon, campaign: CouponCampaign) -> None:
    """Tell the resident a reward coupon arrived (outbox row in the caller's transaction)."""
    record(
        "resident_notify",
        f"coupon:{coupon.id}:granted",
        {
            "kind": "coupon_granted",
            "resident_id": coupon.resident_id,
            "coupon_id": coupon.id,
            "coupon_name": campaign.title,
            "amount": _yuan(most_off_cents(campaign)),
        },
    )


def remind_expiring_coupons() -> int:
    """Periodic: tell residents, once per coupon, that an unused coupon expires soon."""
    now = utcnow()
    horizon = now + timedelta(hours=current_app.config["COUPON_EXPIRY_NOTICE_HOURS"])
    due = (
        sa.select(Coupon.id)
        .where(
            Coupon.status == CouponStatus.AVAILABLE,
            Coupon.expiry_notified_at.is_(None),
            Coupon.valid_until > now,
            Coupon.valid_until <= horizon,
        )
        .limit(REMINDER_BATCH)
        .scalar_subquery()
    )
    claimed = db.session.execute(
        sa.update(Coupon)
        .where(Coupon.id.in_(due), Coupon.expiry_notified_at.is_(None))
        .values(expiry_notified_at=now)
        .returning(Coupon.id, Coupon.resident_id, Coupon.valid_until, Coupon.campaign_id)
        .execution_options(synchronize_session=False)
    ).all()
    titles = dict(
        db.session.execute(
            sa.select(CouponCampaign.id, CouponCampaign.title).where(
                CouponCampaign.id.in_({row.campaign_id for row in claimed})
            )
        ).all()
    )
    for row in claimed:
        record(
            "resident_notify",
            f"coupon:{row.id}:expiring",
            {
                "kind": "coupon_expiring",
                "resident_id": row.resident_id,
                "coupon_id": row.id,
                "coupon_name": titles[row.campaign_id],
                "local_expiry": local_datetime_text(row.valid_until),
            },
        )
    commit_and_relay()
    return len(claimed)

"""Coupons on orders: checked and reserved when the order is created, released when it is
cancelled, spent when the order's work is accepted (the resident confirms it, or the system
does when they do not answer; a completed order waiting for its resident still holds it).

Each step is one conditional UPDATE in the order's own transaction, so a coupon chosen for
two orders at once is reserved by exactly one of them, and a step that runs twice (a retried
request) changes nothing the second time. An order holds at most one coupon (`coupon.order_id`
is unique). The discount is worked out from the service's price when the coupon is reserved
and stored with it: a later change to the price or the campaign does not move it.
"""

from __future__ import annotations

import sqlalchemy as sa

from models import Coupon, CouponCampaign, CouponStatus, ServiceOrder, ServiceType
from models.base import utcnow
from service_hub.plumbing.errors import AppError, Conflict
from service_hub.plumbing.extensions import db


def discount_cents(campaign: CouponCampaign, price_cents: int) -> int:
    """What the campaign's coupon takes off a price: never more than the price, and a
    percentage is rounded down to the cent and capped."""
    if campaign.discount_kind == "fixed":
        return min(campaign.amount_off_cents, price_cents)
    return min(price_cents * campaign.percent_off // 100, campaign.max_discount_cents, price_cents)


def _unusable(code: str, message: str, message_zh: str) -> AppError:
    db.session.rollback()
    return AppError(
        message, status=422, code=code, message_zh=message_zh, fields={"coupon_id": [message]}
    )


def reserve_for_order(coupon_id: int, order: ServiceOrder, service_type: ServiceType) -> Coupon:
    """Check the coupon for this new order (owner, services, threshold, validity) and reserve
    it, in the order's transaction; refusals roll the order back with them."""
    now = utcnow()
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or coupon.resident_id != order.resident_id:
        raise _unusable("coupon_not_found", "No such coupon of this resident.", "优惠券不存在")
    campaign = coupon.campaign
    if campaign.service_type_ids and service_type.id not in campaign.service_type_ids:
        raise _unusable(
            "coupon_not_applicable",
            "The coupon does not apply to this service.",
            "该券不适用于此服务",
        )
    price = service_type.base_price_cents
    if price < campaign.min_spend_cents:
        raise _unusable(
            "coupon_below_threshold",
            f"The coupon needs a spend of at least {campaign.min_spend_cents} cents.",
            "未达到使用门槛",
        )
    if now < coupon.valid_from:
        raise _unusable("coupon_not_yet_valid", "The coupon is not valid yet.", "优惠券尚未生效")
    if now >= coupon.valid_until:
        raise _unusable("coupon_expired", "The coupon has expired.", "优惠券已过期")
    discount = discount_cents(campaign, price)
    reserved = db.session.execute(
        sa.update(Coupon)
        .where(
            Coupon.id == coupon_id,
            Coupon.status == CouponStatus.AVAILABLE,
            Coupon.order_id.is_(None),
        )
        .values(
            status=CouponStatus.RESERVED,
            order_id=order.id,
            discount_cents=discount,
            reserved_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not reserved:
        db.session.rollback()
        raise Conflict(
            "The coupon is held by another order or already used.",
            code="coupon_in_use",
            message_zh="优惠券已被使用",
        )
    db.session.expire(coupon)
    return coupon


def release_for_order(order_id: int) -> int:
    """The order was cancelled: its reserved coupon is available again (if still valid, it
    can be used; its validity does not restart). Returns how many were released."""
    return db.session.execute(
        sa.update(Coupon)
        .where(Coupon.order_id == order_id, Coupon.status == CouponStatus.RESERVED)
        .values(status=CouponStatus.AVAILABLE, order_id=None, discount_cents=None, reserved_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def spend_for_order(order_id: int) -> int:
    """The order's work was accepted: its reserved coupon is spent. Returns how many were
    spent."""
    return db.session.execute(
        sa.update(Coupon)
        .where(Coupon.order_id == order_id, Coupon.status == CouponStatus.RESERVED)
        .values(status=CouponStatus.SPENT, spent_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount

"""Residents' side of coupons: what a community may claim now, atomic claims, my coupons.

Issuing a coupon (a claim, or a participation reward) is one SAVEPOINT in which:
1. `UPDATE coupon_campaign SET issued = issued + 1 WHERE id = … AND status = 'active'
   AND issued < total_stock` takes one unit of stock, or none is left. On PostgreSQL the
   statement also locks the campaign row until commit, so every issue of one campaign
   queues behind the one before it, and re-checks the condition against the committed row.
2. Under that lock the resident's coupons of the campaign are counted (READ COMMITTED reads
   what the previous holder committed); at the limit the savepoint is rolled back, stock
   included. The new coupon's `seq` (count + 1) is unique per (campaign, resident), so the
   database refuses an over-limit coupon even if this order of steps were ever broken.
3. A claim's Idempotency-Key (or a reward's event) is the coupon's `grant_key`, unique per
   (campaign, resident): a repeat finds the first coupon under the lock and returns it.
The database checks `0 ≤ issued ≤ total_stock` as well. On SQLite every transaction is
BEGIN IMMEDIATE, so issues are serial there. On PostgreSQL a claim takes these steps in one
autocommitted statement instead (claim_issue.py), so the lock never waits on a web process.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import CampaignStatus, Coupon, CouponCampaign, CouponStatus, Resident
from models.base import utcnow
from service_hub.auth.regions import require_region
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community, is_bound
from service_hub.coupons import targeting
from service_hub.coupons.claim_issue import autocommit, issue_claim
from service_hub.plumbing.errors import Conflict, Forbidden, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.idempotency import require_same_request

HOME_LIMIT = 10  # claimable coupons shown on a community's home


def coupon_state(coupon: Coupon) -> str:
    """available, reserved, spent, or expired: expiry is decided by the clock now."""
    if coupon.status == CouponStatus.AVAILABLE and coupon.valid_until <= utcnow():
        return CouponStatus.EXPIRED
    return coupon.status


def is_open(campaign: CouponCampaign, now: datetime) -> bool:
    """Whether coupons of this campaign can be issued at this moment."""
    return (
        campaign.status == CampaignStatus.ACTIVE
        and campaign.starts_at <= now
        and (campaign.ends_at is None or now < campaign.ends_at)
        and (campaign.valid_until is None or now < campaign.valid_until)
    )


def _open_conditions(now: datetime) -> list:
    """is_open() and stock left, as SQL."""
    c = CouponCampaign
    return [
        c.status == CampaignStatus.ACTIVE,
        c.starts_at <= now,
        sa.or_(c.ends_at.is_(None), c.ends_at > now),
        sa.or_(c.valid_until.is_(None), c.valid_until > now),
        c.issued < c.total_stock,
    ]


def _claimable_item(campaign: CouponCampaign, held: int | None) -> dict:
    return {
        **{
            name: getattr(campaign, name)
            for name in (
                "title",
                "description",
                "discount_kind",
                "amount_off_cents",
                "percent_off",
                "max_discount_cents",
                "min_spend_cents",
                "service_type_ids",
                "per_resident_limit",
                "valid_until",
                "valid_days",
            )
        },
        "campaign_id": campaign.id,
        "remaining": campaign.total_stock - campaign.issued,
        "held": held,
        "claim_ends_at": campaign.ends_at,
        "new_residents_only": "new_residents_days" in campaign.targeting,
    }


def claimable(community_id: int, resident_id: int | None = None) -> list[dict]:
    """Claim campaigns open now that reach this community, oldest first.

    With a resident, only those they may claim now (new-residents rule, their limit).
    """
    now = utcnow()
    community = get_community(community_id)
    place = targeting.places([community_id], now)[community_id]
    campaigns = db.session.scalars(
        sa.select(CouponCampaign)
        .where(
            CouponCampaign.channel == "claim",
            *_open_conditions(now),
            sa.or_(
                CouponCampaign.region_scope.is_(None),
                CouponCampaign.region_scope.in_([community.province, community.city]),
            ),
        )
        .order_by(CouponCampaign.id)
    ).all()
    reached = [c for c in campaigns if targeting.reaches(c.targeting, c.region_scope, place)]
    if resident_id is None or not reached:
        return [_claimable_item(c, None) for c in reached]
    held = dict(
        db.session.execute(
            sa.select(Coupon.campaign_id, sa.func.count())
            .where(
                Coupon.resident_id == resident_id,
                Coupon.campaign_id.in_([c.id for c in reached]),
            )
            .group_by(Coupon.campaign_id)
        ).all()
    )
    joined = db.session.scalar(sa.select(Resident.created_at).where(Resident.id == resident_id))
    return [
        _claimable_item(c, held.get(c.id, 0))
        for c in reached
        if held.get(c.id, 0) < c.per_resident_limit
        and targeting.resident_is_new(c.targeting, joined, now)
    ]


def community_coupons(principal: Principal, community_id: int) -> list[dict]:
    """What the caller sees for a community: a bound resident, what they may claim now; a
    manager of its region, what its residents are offered."""
    get_community(community_id)
    if principal.role == "resident":
        if not is_bound(principal.id, community_id):
            raise Forbidden(
                "Bind this community to see its coupons.",
                code="not_bound",
                message_zh="请先绑定该小区",
            )
        return claimable(community_id, principal.id)
    require_region(principal, community_id)
    return claimable(community_id)


def _targeted_community(
    campaign: CouponCampaign, resident_id: int, community_id: int | None, now: datetime
) -> int:
    """The resident's community through which they may claim this campaign, or a 403."""
    bound = targeting.places_of_resident(resident_id, now)
    if not bound or (community_id is not None and community_id not in bound):
        raise Forbidden("Bind the community first.", code="not_bound", message_zh="请先绑定该小区")
    candidates = [community_id] if community_id is not None else sorted(bound)
    for candidate in candidates:
        if targeting.reaches(campaign.targeting, campaign.region_scope, bound[candidate]):
            return candidate
    raise _not_targeted()


def _not_targeted() -> Forbidden:
    return Forbidden(
        "This coupon is not offered to you.",
        code="not_targeted",
        message_zh="您不在该券的发放范围内",
    )


def _out_of_stock() -> Conflict:
    return Conflict("All coupons have been claimed.", code="out_of_stock", message_zh="已领完")


def _limit_reached(limit: int) -> Conflict:
    return Conflict(
        f"You hold the most coupons of this campaign one resident may ({limit}).",
        code="claim_limit_reached",
        message_zh="已达领取上限",
    )


def _by_grant_key(campaign_id: int, resident_id: int, grant_key: str) -> Coupon | None:
    return db.session.scalar(
        sa.select(Coupon).where(
            Coupon.campaign_id == campaign_id,
            Coupon.resident_id == resident_id,
            Coupon.grant_key == grant_key,
        )
    )


def held_count(campaign_id: int, resident_id: int) -> int:
    """How many coupons of a campaign the resident holds (in any state)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Coupon.campaign_id == campaign_id, Coupon.resident_id == resident_id
        )
    )


def validity(campaign: CouponCampaign, now: datetime) -> tuple[datetime, datetime]:
    """(valid_from, valid_until) of a coupon of this campaign issued now."""
    if campaign.valid_days:
        return now, now + timedelta(days=campaign.valid_days)
    return campaign.valid_from or now, campaign.valid_until


def issue(
    campaign: CouponCampaign,
    resident_id: int,
    community_id: int | None,
    source: str,
    grant_key: str | None,
    now: datetime,
    *,
    savepoint: bool = True,
    request_fingerprint: str | None = None,
) -> tuple[Coupon | None, str]:
    """Issue one coupon in the caller's transaction (the caller commits).

    Returns (coupon, "issued"), (first coupon, "exists") for a grant_key seen before, or
    (None, "out_of_stock" | "limit"). With `savepoint` (for a grant inside another event's
    transaction) anything but "issued" leaves that transaction as it was; without it (a claim,
    alone in its transaction: two round trips fewer) the caller must roll back.
    """
    nested = db.session.begin_nested() if savepoint else None

    def undo() -> None:
        if nested is not None:
            nested.rollback()

    taken = db.session.execute(
        sa.update(CouponCampaign)
        .where(
            CouponCampaign.id == campaign.id,
            CouponCampaign.status == CampaignStatus.ACTIVE,
            CouponCampaign.issued < CouponCampaign.total_stock,
        )
        .values(issued=CouponCampaign.issued + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        undo()
        return None, "out_of_stock"
    if grant_key and (existing := _by_grant_key(campaign.id, resident_id, grant_key)):
        undo()
        return existing, "exists"
    held = held_count(campaign.id, resident_id)
    if held >= campaign.per_resident_limit:
        undo()
        return None, "limit"
    valid_from, valid_until = validity(campaign, now)
    coupon = Coupon(
        campaign_id=campaign.id,
        resident_id=resident_id,
        community_id=community_id,
        seq=held + 1,
        source=source,
        grant_key=grant_key,
        idempotency_fingerprint=request_fingerprint,
        status=CouponStatus.AVAILABLE,
        valid_from=valid_from,
        valid_until=valid_until,
        created_at=now,
    )
    db.session.add(coupon)
    try:
        db.session.flush()
    except IntegrityError:
        # Only reachable if an issue bypassed the campaign lock; the database said no.
        if nested is not None:
            nested.rollback()
        else:
            db.session.rollback()
        existing = _by_grant_key(campaign.id, resident_id, grant_key) if grant_key else None
        return (existing, "exists") if existing else (None, "limit")
    if nested is not None:
        nested.commit()
    db.session.expire(campaign, ["issued"])
    return coupon, "issued"


def claim(
    resident_id: int,
    campaign_id: int,
    idempotency_key: str | None = None,
    community_id: int | None = None,
    request_fingerprint: str | None = None,
) -> tuple[Coupon, bool]:
    """A resident claims a coupon of a campaign; returns (coupon, created).

    A repeat with the same Idempotency-Key returns the first coupon (created False) when
    `request_fingerprint` matches the first claim's; otherwise 422 idempotency_key_reused.
    """
    grant_key = f"idem:{idempotency_key}" if idempotency_key else None
    fingerprint = request_fingerprint if grant_key else None
    fast = autocommit()  # PostgreSQL: see claim_issue
    if grant_key and (existing := _by_grant_key(campaign_id, resident_id, grant_key)):
        require_same_request(existing.idempotency_fingerprint, fingerprint)
        return existing, False
    now = utcnow()
    campaign = db.session.get(CouponCampaign, campaign_id)
    if campaign is None or campaign.channel != "claim":
        raise NotFound(
            f"No coupon campaign {campaign_id} to claim from.",
            code="campaign_not_found",
            message_zh="优惠券不存在",
        )
    if not is_open(campaign, now):
        raise Conflict(
            "This coupon cannot be claimed now.",
            code="campaign_not_open",
            message_zh="当前不可领取",
            details={"status": campaign.status},
        )
    chosen = _targeted_community(campaign, resident_id, community_id, now)
    if "new_residents_days" in campaign.targeting:
        joined = db.session.scalar(sa.select(Resident.created_at).where(Resident.id == resident_id))
        if not targeting.resident_is_new(campaign.targeting, joined, now):
            raise _not_targeted()
    if campaign.issued >= campaign.total_stock:
        raise _out_of_stock()  # a cheap refusal without the lock; issuing decides for certain
    if fast or db.session.get_bind().dialect.name == "postgresql":
        # One statement: the campaign's lock never waits on this process.
        coupon, outcome = issue_claim(
            campaign, resident_id, chosen, grant_key, fingerprint, validity(campaign, now), now
        )
    else:
        coupon, outcome = issue(
            campaign,
            resident_id,
            chosen,
            "claim",
            grant_key,
            now,
            savepoint=False,
            request_fingerprint=fingerprint,
        )
        if outcome == "issued":
            db.session.commit()
        else:
            db.session.rollback()  # gives back the unit of stock taken
    if outcome == "issued":
        return coupon, True
    if outcome == "exists":
        require_same_request(coupon.idempotency_fingerprint, fingerprint)
        return coupon, False
    if outcome == "out_of_stock":
        raise _out_of_stock()
    raise _limit_reached(campaign.per_resident_limit)


# What GET /me/coupons?state= takes: a coupon's state, "usable" or "all".
COUPON_STATE_FILTERS = ("all", "available", "usable", "reserved", "spent", "expired")


def my_coupons_query(resident_id: int, states: Iterable[str] = ("all",)) -> sa.Select:
    """A resident's coupons, newest first, optionally only those in one of `states` (a
    coupon's state as coupon_state decides it by the clock, or "usable": available and valid
    now)."""
    now = utcnow()
    stmt = (
        sa.select(Coupon)
        .where(Coupon.resident_id == resident_id)
        .order_by(Coupon.created_at.desc(), Coupon.id.desc())
    )
    if isinstance(states, str):
        states = (states,)
    if "all" in states:
        return stmt
    available = Coupon.status == CouponStatus.AVAILABLE
    conditions = {
        "available": sa.and_(available, Coupon.valid_until > now),
        "usable": sa.and_(available, Coupon.valid_from <= now, Coupon.valid_until > now),
        "expired": sa.and_(available, Coupon.valid_until <= now),
        "reserved": Coupon.status == CouponStatus.RESERVED,
        "spent": Coupon.status == CouponStatus.SPENT,
    }
    return stmt.where(sa.or_(*(conditions[state] for state in states)))

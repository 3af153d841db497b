"""Participation rewards, configured as data: `coupon_reward_rule` rows say which event
grants a coupon of which reward campaign.

Events: `review_with_photos` (a review created with photos), `activity_attended` (a manager
marked a signed-up resident as attended), `first_community_bound` (a resident's first
community binding). Each grant runs through the same atomic issue as a claim, inside the
event's own transaction, with the event as its key ("review_with_photos:review:12"): the key
is unique per (campaign, resident), so a repeated event never grants twice. A campaign's
targeting applies to the community the event happened in, its stock and per-resident limit
hold as for claims, and an event that earns nothing (out of stock, limit, not targeted)
changes nothing else.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import (
    ActivityCommunity,
    CampaignStatus,
    CommunityBinding,
    Coupon,
    CouponCampaign,
    CouponRewardRule,
    Resident,
)
from models.base import utcnow
from service_hub.auth.tokens import Principal
from service_hub.coupons import targeting
from service_hub.coupons.campaigns import get_campaign_for, scope_of
from service_hub.coupons.notices import notify_coupon_granted
from service_hub.coupons.service import is_open, issue
from service_hub.plumbing.errors import InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import winner_of_unique_race

log = logging.getLogger(__name__)


def reward_first_binding(resident_id: int, community_id: int) -> None:
    """A resident bound a first community: the "first_community_bound" rewards, if any."""
    grant_participation_rewards("first_community_bound", resident_id, community_id, "1")


def grant_participation_rewards(
    event: str, resident_id: int, community_id: int, subject: str
) -> list[Coupon]:
    """Grant the coupons active rules promise for this event, in the caller's transaction
    (the caller commits, with commit_and_relay for the notices). Returns the new coupons."""
    now = utcnow()
    campaigns = db.session.scalars(
        sa.select(CouponCampaign)
        .join(CouponRewardRule, CouponRewardRule.campaign_id == CouponCampaign.id)
        .where(
            CouponRewardRule.event == event,
            CouponRewardRule.active.is_(True),
            CouponCampaign.status == CampaignStatus.ACTIVE,
        )
        # One order of locks for every grant, so two events never wait on each other.
        .order_by(CouponCampaign.id)
    ).all()
    campaigns = [c for c in campaigns if is_open(c, now)]
    if not campaigns:
        return []
    place = targeting.places([community_id], now).get(community_id)
    joined = db.session.scalar(sa.select(Resident.created_at).where(Resident.id == resident_id))
    granted = []
    for campaign in campaigns:
        if place is None or not targeting.reaches(campaign.targeting, campaign.region_scope, place):
            continue
        if not targeting.resident_is_new(campaign.targeting, joined, now):
            continue
        coupon, outcome = issue(
            campaign, resident_id, community_id, "reward", f"{event}:{subject}", now
        )
        if outcome == "issued":
            notify_coupon_granted(coupon, campaign)
            granted.append(coupon)
        elif outcome != "exists":
            log.info("no %s reward from campaign %s: %s", event, campaign.id, outcome)
    return granted


def reward_activity_attendance(activity_id: int, resident_ids: list[int]) -> int:
    """Grant attendance rewards to residents just marked attended; returns coupons granted.

    The event's community is the resident's bound community among the activity's (lowest id).
    """
    if not resident_ids:
        return 0
    where = dict(
        db.session.execute(
            sa.select(CommunityBinding.resident_id, sa.func.min(CommunityBinding.community_id))
            .join(
                ActivityCommunity,
                ActivityCommunity.community_id == CommunityBinding.community_id,
            )
            .where(
                ActivityCommunity.activity_id == activity_id,
                CommunityBinding.resident_id.in_(resident_ids),
            )
            .group_by(CommunityBinding.resident_id)
        ).all()
    )
    return sum(
        len(
            grant_participation_rewards(
                "activity_attended", resident_id, where[resident_id], f"activity:{activity_id}"
            )
        )
        for resident_id in resident_ids
        if resident_id in where
    )


def create_rule(
    principal: Principal, event: str, campaign_id: int
) -> tuple[CouponRewardRule, bool]:
    """Make an event grant coupons of a reward campaign (a repeat reactivates the rule)."""
    campaign = get_campaign_for(principal, campaign_id)
    if campaign.channel != "reward":
        raise InvalidInput(
            "Only a reward campaign can be granted by events.",
            code="not_a_reward_campaign",
            fields={"campaign_id": ["not a reward campaign"]},
        )
    existing = _rule(event, campaign_id)
    if existing is not None:
        existing.active = True
        db.session.commit()
        return existing, False
    rule = CouponRewardRule(event=event, campaign_id=campaign_id, created_by=principal.id)
    db.session.add(rule)
    try:
        db.session.commit()
    except IntegrityError:
        # The same rule was created at the same moment: that one stands (no second try).
        return winner_of_unique_race(lambda: _rule(event, campaign_id)), False
    return rule, True


def _rule(event: str, campaign_id: int) -> CouponRewardRule | None:
    return db.session.scalar(
        sa.select(CouponRewardRule).where(
            CouponRewardRule.event == event, CouponRewardRule.campaign_id == campaign_id
        )
    )


def deactivate_rule(principal: Principal, rule_id: int) -> None:
    """Stop a rule granting (kept for the record; creating it again reactivates it)."""
    rule = db.session.get(CouponRewardRule, rule_id)
    if rule is None:
        raise NotFound(f"No reward rule {rule_id}.", code="reward_rule_not_found")
    get_campaign_for(principal, rule.campaign_id)
    rule.active = False
    db.session.commit()


def rules_query(principal: Principal) -> sa.Select:
    """The reward rules of campaigns the caller manages, newest first."""
    stmt = (
        sa.select(CouponRewardRule)
        .join(CouponCampaign, CouponCampaign.id == CouponRewardRule.campaign_id)
        .order_by(CouponRewardRule.id.desc())
    )
    scope = scope_of(principal)
    return stmt.where(CouponCampaign.region_scope == scope) if scope else stmt

"""Managers' side of coupons: create a campaign, preview its reach, take it live, pause, end.

A campaign starts as a draft, so its reach can be previewed before anyone can claim it.
`activate` takes a draft (or a paused campaign) live, `pause` stops claims for a while,
`end` stops them for good. Coupons already issued stay usable until their own validity
ends, whatever happens to the campaign afterwards: residents were promised them.

A manager with a region creates campaigns scoped to it (`region_scope`), which then never
reach a community elsewhere, and manages only campaigns of that same scope; admins and
managers without a region manage every campaign.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from models import CampaignStatus, Coupon, CouponCampaign, CouponStatus, ServiceType
from models.base import utcnow
from service_hub.auth.tokens import Principal
from service_hub.coupons import targeting
from service_hub.plumbing.errors import AppError, Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay, record

# action → (statuses it may start from, status it leads to)
TRANSITIONS = {
    "activate": ({CampaignStatus.DRAFT, CampaignStatus.PAUSED}, CampaignStatus.ACTIVE),
    "pause": ({CampaignStatus.ACTIVE}, CampaignStatus.PAUSED),
    "end": (
        {CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED},
        CampaignStatus.ENDED,
    ),
}


def scope_of(principal: Principal) -> str | None:
    """The region a caller's campaigns are confined to (None: everywhere)."""
    return None if principal.role == "admin" else principal.region


def _outside_region(message: str = "This campaign belongs to another region.") -> Forbidden:
    return Forbidden(message, code="outside_region", message_zh="不在您负责的区域")


def check_targeting_in_scope(principal: Principal, rules: dict) -> None:
    """A regional manager may only name places inside their region (403 otherwise): an
    entry naming a province or city names theirs; a bare district is read inside it."""
    scope = scope_of(principal)
    if not scope:
        return
    for entry in rules.get("regions", []):
        named = {entry.get("province"), entry.get("city")} - {None}
        if named and scope not in named:
            raise _outside_region("Targeted regions must lie inside your region.")


def create_campaign(principal: Principal, fields: dict) -> CouponCampaign:
    """Store a campaign as a draft, after checking what the schema alone cannot."""
    now = utcnow()
    fields["starts_at"] = fields.get("starts_at") or now
    problems: dict[str, list[str]] = {}
    if fields.get("ends_at") and fields["ends_at"] <= fields["starts_at"]:
        problems["ends_at"] = ["must be after starts_at"]
    if fields.get("valid_until"):
        if fields["valid_until"] <= max(fields.get("valid_from") or now, now):
            problems["valid_until"] = ["must be in the future and after valid_from"]
        elif fields.get("ends_at") and fields["ends_at"] > fields["valid_until"]:
            problems["ends_at"] = ["claims must close by valid_until"]
    wanted = set(fields.pop("service_type_ids"))
    known = set(db.session.scalars(sa.select(ServiceType.id).where(ServiceType.id.in_(wanted))))
    if wanted - known:
        problems["service_type_ids"] = [f"unknown: {sorted(wanted - known)}"]
    if problems:
        raise InvalidInput("The campaign does not fit together.", fields=problems)
    check_targeting_in_scope(principal, fields["targeting"])
    campaign = CouponCampaign(
        **fields,
        service_type_ids=sorted(wanted),
        region_scope=scope_of(principal),
        status=CampaignStatus.DRAFT,
        created_by=principal.id,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def manages(principal: Principal, campaign: CouponCampaign) -> bool:
    """Whether the caller may see and change this campaign."""
    scope = scope_of(principal)
    return not scope or campaign.region_scope == scope


def get_campaign_for(principal: Principal, campaign_id: int) -> CouponCampaign:
    """The campaign if the caller manages it: 404 if missing, 403 if another region's."""
    campaign = db.session.get(CouponCampaign, campaign_id)
    if campaign is None:
        raise NotFound(
            f"No campaign {campaign_id}.", code="campaign_not_found", message_zh="活动不存在"
        )
    if not manages(principal, campaign):
        raise _outside_region()
    return campaign


def campaigns_query(principal: Principal, status: str | None) -> sa.Select:
    """The campaigns the caller manages, newest first."""
    stmt = sa.select(CouponCampaign).order_by(CouponCampaign.id.desc())
    scope = scope_of(principal)
    if scope:
        stmt = stmt.where(CouponCampaign.region_scope == scope)
    if status:
        stmt = stmt.where(CouponCampaign.status == status)
    return stmt


def coupon_counts(campaign_id: int) -> dict[str, int]:
    """Issued coupons of a campaign by state; expiry is decided by the clock now."""
    now = utcnow()
    state = sa.case(
        (
            sa.and_(Coupon.status == CouponStatus.AVAILABLE, Coupon.valid_until <= now),
            CouponStatus.EXPIRED.value,
        ),
        else_=Coupon.status,
    )
    counts = dict.fromkeys((s.value for s in CouponStatus), 0)
    for name, n in db.session.execute(
        sa.select(state, sa.func.count()).where(Coupon.campaign_id == campaign_id).group_by(state)
    ):
        counts[name] = n
    return counts


def campaign_detail(principal: Principal, campaign_id: int) -> dict:
    """A campaign with its coupons counted by state."""
    campaign = get_campaign_for(principal, campaign_id)
    return {"campaign": campaign, "coupons": coupon_counts(campaign.id)}


def preview_campaign(principal: Principal, campaign_id: int) -> dict:
    """How many communities and residents a stored campaign reaches now."""
    campaign = get_campaign_for(principal, campaign_id)
    return targeting.preview(campaign.targeting, campaign.region_scope)


def preview_rules(principal: Principal, rules: dict) -> dict:
    """How many communities and residents these rules would reach for this caller now."""
    check_targeting_in_scope(principal, rules)
    return targeting.preview(rules, scope_of(principal))


def change_status(principal: Principal, campaign_id: int, action: str) -> CouponCampaign:
    """activate, pause or end a campaign, under a row lock (claims queue on the same lock)."""
    get_campaign_for(principal, campaign_id)
    campaign = db.session.scalars(
        sa.select(CouponCampaign)
        .where(CouponCampaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    sources, target = TRANSITIONS[action]
    if campaign.status not in sources:
        raise AppError(
            f"Cannot {action} a campaign that is {campaign.status}.",
            status=409,
            code="illegal_transition",
            message_zh="当前活动状态不允许此操作",
            details={"current_status": campaign.status},
        )
    campaign.status = target
    # Every community's cached home lists what is on offer (communities/home_cache.py).
    record("community_home_changed", uuid.uuid4().hex, {"community_id": None})
    commit_and_relay()
    return campaign

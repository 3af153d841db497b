"""A community's home page: what the mini-program shows first, gathered from every domain
that has something on offer in the community (engineers, visits, services, activities,
coupons, questions), in a fixed number of queries. Engineers are shown as residents judge
them (rating, reviews, completed orders there); their standing, the ranking's internal
figure, only to managers and admins.

The page has two parts. The shared part (`shared_home`) is the same for every caller and is
served from a cache (home_cache.py, docs/performance.md "Community home"); the caller's own
part (`resident_facts`: bound or not, the coupons they may still claim) is one statement on
top of it, for residents only."""

from __future__ import annotations

import functools
from datetime import timedelta

import sqlalchemy as sa

from models import (
    Activity,
    ActivityCommunity,
    ActivityStatus,
    CommunityBinding,
    Coupon,
    CouponCampaign,
    Engineer,
    EngineerCommunity,
    Resident,
    ServiceType,
    Visit,
    VisitStatus,
)
from models.base import UTCDateTime, utcnow
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community
from service_hub.coupons.claim_issue import autocommit
from service_hub.coupons.service import HOME_LIMIT, claimable
from service_hub.engineers.service import reputation, sees_standing
from service_hub.plumbing.extensions import db
from service_hub.qa.service import recent_questions

# A visit as the home lists it (its engineer beside it).
VISIT_BRIEF = ("id", "engineer_id", "community_id", "starts_at", "ends_at", "note")


def shared_home(community_id: int) -> dict:
    """What every caller sees of a community's page, in a fixed number of queries whatever
    its size: the engineers both as residents see them (`engineers`) and with their standing
    (`engineers_with_standing`), the coupons on offer to its residents (`held` None), and
    `new_residents_days` per offered campaign (for the caller's part)."""
    community = get_community(community_id)
    links = db.session.execute(
        sa.select(Engineer, EngineerCommunity)
        .join(EngineerCommunity, EngineerCommunity.engineer_id == Engineer.id)
        .where(EngineerCommunity.community_id == community_id)
        .order_by(EngineerCommunity.standing.desc(), Engineer.id)
        .limit(20)
    ).all()
    visits = db.session.execute(
        sa.select(Visit, Engineer)
        .join(Engineer, Engineer.id == Visit.engineer_id)
        .where(
            Visit.community_id == community_id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.ends_at >= utcnow(),
        )
        .order_by(Visit.starts_at)
        .limit(10)
    ).all()
    services = db.session.scalars(
        sa.select(ServiceType).where(ServiceType.active.is_(True)).order_by(ServiceType.id)
    ).all()
    activities = db.session.scalars(
        sa.select(Activity)
        .join(ActivityCommunity, ActivityCommunity.activity_id == Activity.id)
        .where(
            ActivityCommunity.community_id == community_id,
            Activity.status == ActivityStatus.OPEN,
            Activity.ends_at > utcnow(),
        )
        .order_by(Activity.starts_at, Activity.id)
        .limit(5)
    ).all()
    # Every campaign open here, not only the first HOME_LIMIT: a resident who may no longer
    # claim one of those sees the next ones.
    offers = claimable(community_id)
    rules = (
        dict(
            db.session.execute(
                sa.select(CouponCampaign.id, CouponCampaign.targeting).where(
                    CouponCampaign.id.in_([item["campaign_id"] for item in offers])
                )
            ).all()
        )
        if offers
        else {}
    )
    return {
        "community": community,
        "engineers": [{"engineer": e, **reputation(link, False)} for e, link in links],
        "engineers_with_standing": [{"engineer": e, **reputation(link, True)} for e, link in links],
        "upcoming_visits": [
            {**{c: getattr(v, c) for c in VISIT_BRIEF}, "engineer": e} for v, e in visits
        ],
        "services": services,
        "open_activities": activities,
        "recent_questions": recent_questions(community_id),
        "claimable_coupons": offers,
        "new_residents_days": {
            item["campaign_id"]: rules[item["campaign_id"]].get("new_residents_days")
            for item in offers
        },
    }


def resident_facts(
    resident_id: int, community_id: int, new_residents_days: dict[int, int | None]
) -> tuple[bool, dict[int, int], set[int]]:
    """A resident's own part of a community's page, in one statement: whether they are bound
    to it, how many coupons of each offered campaign they hold, and the offered campaigns
    whose new-residents rule leaves them out."""
    rules = tuple(sorted({d for d in new_residents_days.values() if d is not None}))
    statement = _facts_statement(bool(new_residents_days), rules)
    now = utcnow()
    parameters = {
        "resident_id": resident_id,
        "community_id": community_id,
        "campaign_ids": list(new_residents_days),
        # targeting.resident_is_new: joined no earlier than `days` ago.
        **{f"since_{days}": now - timedelta(days=days) for days in rules},
    }
    autocommit()  # a read alone: no BEGIN and ROLLBACK around it on PostgreSQL
    rows = db.session.connection().execute(statement, parameters).all()
    is_new = {key: count > 0 for part, key, count in rows if part == 2}
    held = {key: count for part, key, count in rows if part == 1}
    left_out = {
        campaign_id
        for campaign_id, days in new_residents_days.items()
        if days is not None and not is_new.get(days, False)
    }
    return any(count for part, _, count in rows if part == 0), held, left_out


@functools.cache
def _facts_statement(with_coupons: bool, new_residents_days: tuple[int, ...]):
    # Built once per shape (it costs more to build than to run), then only bound.
    resident_id = sa.bindparam("resident_id")
    parts = [
        sa.select(sa.literal(0).label("part"), sa.literal(0).label("key"), sa.func.count()).where(
            CommunityBinding.resident_id == resident_id,
            CommunityBinding.community_id == sa.bindparam("community_id"),
        )
    ]
    if with_coupons:
        parts.append(
            sa.select(sa.literal(1), Coupon.campaign_id, sa.func.count())
            .where(
                Coupon.resident_id == resident_id,
                Coupon.campaign_id.in_(sa.bindparam("campaign_ids", expanding=True)),
            )
            .group_by(Coupon.campaign_id)
        )
    for days in new_residents_days:
        parts.append(
            sa.select(sa.literal(2), sa.literal(days), sa.func.count()).where(
                Resident.id == resident_id,
                Resident.created_at >= sa.bindparam(f"since_{days}", type_=UTCDateTime()),
            )
        )
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


def claimable_for(offers: list[dict], held: dict[int, int], left_out: set[int]) -> list[dict]:
    """The offered coupons a resident may claim now, with how many they hold (the first
    HOME_LIMIT), as `coupons.service.claimable(community_id, resident_id)` says."""
    mine = []
    for item in offers:
        count = held.get(item["campaign_id"], 0)
        if count < item["per_resident_limit"] and item["campaign_id"] not in left_out:
            mine.append({**item, "held": count})
            if len(mine) == HOME_LIMIT:
                break
    return mine


def community_home(community_id: int, principal: Principal | None = None) -> dict:
    """A community's whole page for `principal` (None: anyone), built without the cache:
    the shared part and the caller's own."""
    shared = shared_home(community_id)
    offers = shared.pop("claimable_coupons")
    days = shared.pop("new_residents_days")
    with_standing = shared.pop("engineers_with_standing")
    if sees_standing(principal):
        shared["engineers"] = with_standing
    if principal is not None and principal.role == "resident":
        bound, held, left_out = resident_facts(principal.id, community_id, days)
        return {
            **shared,
            "is_bound": bound,
            "claimable_coupons": claimable_for(offers, held, left_out),
        }
    return {**shared, "is_bound": False, "claimable_coupons": offers[:HOME_LIMIT]}

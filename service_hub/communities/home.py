"""A community's home page: what the mini-program shows first, gathered from every domain
that has something on offer in the community (engineers, visits, services, activities,
coupons, questions), in a fixed number of queries. Engineers are shown as residents judge
them (rating, reviews, completed orders there); their standing, the ranking's internal
figure, only to managers and admins."""

from __future__ import annotations

import sqlalchemy as sa

from models import (
    Activity,
    ActivityCommunity,
    ActivityStatus,
    Engineer,
    EngineerCommunity,
    ServiceType,
    Visit,
    VisitStatus,
)
from models.base import utcnow
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community, is_bound
from service_hub.coupons.service import HOME_LIMIT, claimable
from service_hub.engineers.service import reputation, sees_standing
from service_hub.plumbing.extensions import db
from service_hub.qa.service import recent_questions

# A visit as the home lists it (its engineer beside it).
VISIT_BRIEF = ("id", "engineer_id", "community_id", "starts_at", "ends_at", "note")


def community_home(community_id: int, principal: Principal | None = None) -> dict:
    """A community's page for `principal` (None: anyone) in a fixed number of queries,
    whatever its size: one more for a resident (`is_bound`)."""
    community = get_community(community_id)
    engineers = db.session.execute(
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
    with_standing = sees_standing(principal)
    return {
        "claimable_coupons": claimable(community_id)[:HOME_LIMIT],  # coupons on offer here
        "open_activities": activities,
        "recent_questions": recent_questions(community_id),
        "community": community,
        "is_bound": principal is not None
        and principal.role == "resident"
        and is_bound(principal.id, community_id),
        "engineers": [{"engineer": e, **reputation(link, with_standing)} for e, link in engineers],
        "upcoming_visits": [
            {**{c: getattr(v, c) for c in VISIT_BRIEF}, "engineer": e} for v, e in visits
        ],
        "services": services,
    }

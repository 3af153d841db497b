"""A community's home page: what the mini-program shows first, gathered from every domain
that has something on offer in the community (engineers, visits, services, activities,
coupons, questions), in a fixed number of queries."""

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
from service_hub.communities.service import get_community
from service_hub.coupons.service import HOME_LIMIT, claimable
from service_hub.plumbing.extensions import db
from service_hub.qa.service import recent_questions


def community_home(community_id: int) -> dict:
    """A community's page in a fixed number of queries, whatever its size."""
    community = get_community(community_id)
    engineers = db.session.execute(
        sa.select(Engineer, EngineerCommunity)
        .join(EngineerCommunity, EngineerCommunity.engineer_id == Engineer.id)
        .where(EngineerCommunity.community_id == community_id)
        .order_by(EngineerCommunity.standing.desc(), Engineer.id)
        .limit(20)
    ).all()
    visits = db.session.scalars(
        sa.select(Visit)
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
    return {
        "claimable_coupons": claimable(community_id)[:HOME_LIMIT],  # coupons on offer here
        "open_activities": activities,
        "recent_questions": recent_questions(community_id),
        "community": community,
        "engineers": [
            {
                "engineer": e,
                "standing": link.standing,
                "completed_orders": link.completed_orders,
            }
            for e, link in engineers
        ],
        "upcoming_visits": visits,
        "services": services,
    }

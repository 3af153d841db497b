"""Engineer profiles (the personal brand residents see) and managers' administration.

A manager administers an engineer only in the engineer's region: the regions of the
communities they serve (service_hub/auth/regions.py). Every function here that a manager calls
takes the principal and checks that first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import (
    Community,
    Engineer,
    EngineerCommunity,
    EngineerSkill,
    Review,
    StaffUser,
)
from service_hub.auth.regions import (
    require_engineer_in_region,
    require_new_engineer_in_region,
    require_region,
)
from service_hub.auth.service import create_staff
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community
from service_hub.plumbing.errors import InvalidInput, NotFound
from service_hub.plumbing.extensions import db

PROFILE_FIELDS = (
    "name",
    "bio",
    "photo_url",
    "years_of_service",
    "base_lat",
    "base_lng",
    "on_duty",
    "max_open_orders",
    "working_hours",
)


def get_engineer(engineer_id: int) -> Engineer:
    """The engineer, or a 404."""
    engineer = db.session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFound(
            f"No engineer {engineer_id}.", code="engineer_not_found", message_zh="工程师不存在"
        )
    return engineer


def profile(engineer_id: int, principal: Principal | None = None) -> dict:
    """Public profile: brand, skills, communities served, ratings; each community's
    standing for those who see standings and for the engineer themself (else None)."""
    engineer = get_engineer(engineer_id)
    own = principal is not None and principal.engineer_id == engineer_id
    skills = db.session.scalars(
        sa.select(EngineerSkill)
        .where(EngineerSkill.engineer_id == engineer_id)
        .order_by(EngineerSkill.level.desc(), EngineerSkill.skill)
    ).all()
    communities = db.session.execute(
        sa.select(
            Community.id,
            Community.name,
            EngineerCommunity.standing,
            EngineerCommunity.completed_orders,
        )
        .join(EngineerCommunity, EngineerCommunity.community_id == Community.id)
        .where(EngineerCommunity.engineer_id == engineer_id)
        .order_by(EngineerCommunity.standing.desc(), Community.id)
    ).all()
    rating_count, rating_avg = db.session.execute(
        sa.select(sa.func.count(Review.id), sa.func.avg(Review.rating)).where(
            Review.engineer_id == engineer_id
        )
    ).one()
    return {
        "engineer": engineer,
        "skills": skills,
        "communities": [
            {**row._asdict(), "standing": row.standing if own or sees_standing(principal) else None}
            for row in communities
        ],
        "review_count": rating_count,
        "average_rating": round(float(rating_avg), 3) if rating_avg is not None else None,
    }


def sees_standing(principal: Principal | None) -> bool:
    """Whether the caller sees engineers' standings, the ranking's internal figure, and what
    they are made of: managers and admins. Residents, anyone and engineers (of others) see
    an engineer's rating, reviews and completed orders instead (docs/privacy.md)."""
    return principal is not None and principal.role in ("manager", "admin")


def reputation(link: EngineerCommunity, with_standing: bool) -> dict:
    """An engineer's record in one community as residents judge it: the average rating and
    number of its visible reviews and the orders completed there, as the standing recompute
    that follows every review keeps them on the engineer's link (dispatch/standing.py); and,
    `with_standing`, the standing and its breakdown (else None)."""
    breakdown = link.standing_breakdown or {}
    return {
        "average_rating": breakdown.get("average_rating"),
        "review_count": breakdown.get("reviews", 0),
        "completed_orders": link.completed_orders,
        "standing": link.standing if with_standing else None,
        "standing_breakdown": (breakdown or {"standing": link.standing, "scored": False})
        if with_standing
        else None,
    }


def ranked_for_community_query(community_id: int) -> sa.Select:
    """Engineers serving a community, best standing first (then completed orders)."""
    get_community(community_id)
    return (
        sa.select(Engineer, EngineerCommunity)
        .join(EngineerCommunity, EngineerCommunity.engineer_id == Engineer.id)
        .where(EngineerCommunity.community_id == community_id)
        .order_by(
            EngineerCommunity.standing.desc(),
            EngineerCommunity.completed_orders.desc(),
            Engineer.id,
        )
    )


def create_engineer(
    principal: Principal,
    username: str,
    password: str,
    name: str,
    base_lat: float,
    base_lng: float,
    phone: str | None = None,
    community_ids: Sequence[int] = (),
    skills: Sequence[dict] = (),
    **profile_fields,
) -> Engineer:
    """A staff account with role engineer, its profile, the communities it serves and its
    skills ({skill, level}), in one transaction. A regional manager names at least one
    community, all in their region."""
    ids = sorted(set(community_ids))
    communities = db.session.scalars(sa.select(Community).where(Community.id.in_(ids))).all()
    missing = set(ids) - {c.id for c in communities}
    if missing:
        raise InvalidInput(
            "Unknown communities.", fields={"community_ids": [f"unknown: {sorted(missing)}"]}
        )
    require_new_engineer_in_region(principal, communities)
    staff = create_staff(username, password, "engineer", name, phone=phone)
    engineer = Engineer(
        staff_user_id=staff.id, name=name, base_lat=base_lat, base_lng=base_lng, **profile_fields
    )
    db.session.add(engineer)
    db.session.flush()
    db.session.add_all(
        EngineerCommunity(engineer_id=engineer.id, community_id=community_id)
        for community_id in ids
    )
    db.session.add_all(
        EngineerSkill(engineer_id=engineer.id, skill=s["skill"], level=s["level"]) for s in skills
    )
    db.session.commit()
    return engineer


def administer_profile(principal: Principal, engineer_id: int, changes: dict) -> Engineer:
    """A manager changes an engineer's profile, duty or load limit (in the engineer's region)."""
    get_engineer(engineer_id)
    require_engineer_in_region(principal, engineer_id)
    return update_profile(engineer_id, changes)


def update_profile(engineer_id: int, changes: dict) -> Engineer:
    """Change profile fields (only those given); the caller has checked who may."""
    engineer = get_engineer(engineer_id)
    for name, value in changes.items():
        if name in PROFILE_FIELDS:
            setattr(engineer, name, value)
    if "name" in changes:
        staff = db.session.get(StaffUser, engineer.staff_user_id)
        staff.display_name = changes["name"]
    db.session.commit()
    return engineer


def assign_community(principal: Principal, engineer_id: int, community_id: int) -> bool:
    """The engineer serves the community from now on; returns False if already so.

    A regional manager assigns only their region's engineers, and only to its communities."""
    get_engineer(engineer_id)
    get_community(community_id)
    require_engineer_in_region(principal, engineer_id)
    require_region(principal, community_id)
    db.session.add(EngineerCommunity(engineer_id=engineer_id, community_id=community_id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def unassign_community(principal: Principal, engineer_id: int, community_id: int) -> None:
    """The engineer no longer serves the community (their history there is kept)."""
    get_engineer(engineer_id)
    get_community(community_id)
    require_engineer_in_region(principal, engineer_id)
    require_region(principal, community_id)
    db.session.execute(
        sa.delete(EngineerCommunity).where(
            EngineerCommunity.engineer_id == engineer_id,
            EngineerCommunity.community_id == community_id,
        )
    )
    db.session.commit()


def set_skills(principal: Principal, engineer_id: int, skills: list[dict]) -> list[EngineerSkill]:
    """Replace the engineer's skills with the given {skill, level} list."""
    get_engineer(engineer_id)
    require_engineer_in_region(principal, engineer_id)
    db.session.execute(sa.delete(EngineerSkill).where(EngineerSkill.engineer_id == engineer_id))
    rows = [
        EngineerSkill(engineer_id=engineer_id, skill=s["skill"], level=s["level"]) for s in skills
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows

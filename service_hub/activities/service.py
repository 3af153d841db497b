"""Activity rules: managers create them for communities, residents of those sign up once.

Capacity holds under any concurrency and `signed_up` always equals the live sign-ups: every
change of an activity's sign-ups first takes the activity's row lock (service_hub/plumbing/sql.py
`lock_row`), checks capacity by counting the live rows, and sets the counter from them in the
same transaction; the database checks 0 ≤ signed_up ≤ capacity as well. One place per
resident is a unique key; deadlocks and serialisation failures are retried, then 409.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from models import (
    Activity,
    ActivityCommunity,
    ActivitySignup,
    ActivityStatus,
    Community,
    CommunityBinding,
    SignupStatus,
)
from models.base import utcnow
from service_hub.auth.regions import covers
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community
from service_hub.coupons.rewards import reward_activity_attendance
from service_hub.plumbing.errors import Conflict, Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay
from service_hub.plumbing.sql import lock_row, retry_transient, set_count

MAX_COMMUNITIES_PER_ACTIVITY = 200
# Attendance can be taken from this long before an activity starts (check-in at the door).
ATTENDANCE_OPENS_BEFORE = timedelta(hours=1)


def _check_region(principal: Principal, communities: list[Community]) -> None:
    outside = [c.id for c in communities if not covers(principal, c)]
    if outside:
        raise Forbidden(
            "Some communities are outside your region.",
            code="outside_region",
            details={"community_ids": outside},
        )


def create_activity(
    principal: Principal,
    community_ids: list[int],
    *,
    title: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    signup_opens_at: datetime | None = None,
    signup_closes_at: datetime | None = None,
    description: str = "",
) -> Activity:
    """A manager opens an activity to one or more communities."""
    ids = sorted(set(community_ids))
    if len(ids) > MAX_COMMUNITIES_PER_ACTIVITY:
        raise InvalidInput(
            f"At most {MAX_COMMUNITIES_PER_ACTIVITY} communities.",
            fields={"other_community_ids": ["too many"]},
        )
    communities = db.session.scalars(sa.select(Community).where(Community.id.in_(ids))).all()
    missing = set(ids) - {c.id for c in communities}
    if missing:
        raise InvalidInput(
            "Unknown communities.", fields={"other_community_ids": [f"unknown: {sorted(missing)}"]}
        )
    _check_region(principal, communities)
    now = utcnow()
    opens = signup_opens_at or now
    closes = signup_closes_at or starts_at
    problems = {}
    if ends_at <= starts_at:
        problems["ends_at"] = ["must be after starts_at"]
    if closes <= opens:
        problems["signup_closes_at"] = ["must be after signup_opens_at"]
    if closes > ends_at:
        problems["signup_closes_at"] = ["must not be after the activity ends"]
    if problems:
        raise InvalidInput("The activity's times do not fit together.", fields=problems)
    activity = Activity(
        title=title,
        description=description,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        signup_opens_at=opens,
        signup_closes_at=closes,
        capacity=capacity,
        created_by=principal.id,
    )
    db.session.add(activity)
    db.session.flush()
    db.session.add_all(ActivityCommunity(activity_id=activity.id, community_id=cid) for cid in ids)
    db.session.commit()
    return activity


def get_activity(activity_id: int) -> Activity:
    """The activity, or a 404."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(
            f"No activity {activity_id}.", code="activity_not_found", message_zh="活动不存在"
        )
    return activity


def community_activities_query(community_id: int, include_past: bool = False) -> sa.Select:
    """Activities open to a community, soonest first (by default those not yet over)."""
    get_community(community_id)
    stmt = (
        sa.select(Activity)
        .join(ActivityCommunity, ActivityCommunity.activity_id == Activity.id)
        .where(
            ActivityCommunity.community_id == community_id, Activity.status == ActivityStatus.OPEN
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    if not include_past:
        stmt = stmt.where(Activity.ends_at > utcnow())
    return stmt


def _bound_to_activity(resident_id: int, activity_id: int) -> bool:
    return db.session.scalar(
        sa.select(
            sa.exists().where(
                ActivityCommunity.activity_id == activity_id,
                ActivityCommunity.community_id == CommunityBinding.community_id,
                CommunityBinding.resident_id == resident_id,
            )
        )
    )


LIVE_SIGNUP = (SignupStatus.ACTIVE, SignupStatus.ATTENDED)


def _live_signups(activity_id: int) -> sa.Select:
    """How many places of the activity are taken (what `signed_up` counts)."""
    return (
        sa.select(sa.func.count())
        .select_from(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status.in_(LIVE_SIGNUP))
    )


def _recount(activity_id: int) -> None:
    """Set the activity's counter from its live sign-ups (caller holds the activity's lock)."""
    set_count(Activity.signed_up, activity_id, _live_signups(activity_id))


@retry_transient
def sign_up(resident_id: int, activity_id: int) -> tuple[ActivitySignup, bool]:
    """Take a place; a repeat returns the existing place. Returns (signup, created).

    The activity's row lock comes first, so sign-ups and cancellations of one activity run
    one after another; the counter is then set from the live rows, never moved by ±1."""
    activity = get_activity(activity_id)
    lock_row(Activity, activity_id)
    existing = db.session.scalar(
        sa.select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.resident_id == resident_id)
        .execution_options(populate_existing=True)
    )
    if existing is not None and existing.status in LIVE_SIGNUP:
        db.session.rollback()
        return existing, False
    if not _bound_to_activity(resident_id, activity_id):
        db.session.rollback()
        raise Forbidden(
            "This activity is for residents of other communities.",
            code="not_bound",
            message_zh="仅限活动所在小区的居民报名",
        )
    now = utcnow()
    if (
        activity.status != ActivityStatus.OPEN
        or not activity.signup_opens_at <= now < activity.signup_closes_at
    ):
        db.session.rollback()
        raise Conflict(
            "Sign-up is not open for this activity.",
            code="signup_closed",
            message_zh="当前不在报名时间内",
        )
    if db.session.scalar(_live_signups(activity_id)) >= activity.capacity:
        db.session.rollback()
        raise Conflict("The activity is full.", code="activity_full", message_zh="名额已满")
    if existing is not None:
        existing.status = SignupStatus.ACTIVE
        signup = existing
    else:
        signup = ActivitySignup(activity_id=activity_id, resident_id=resident_id)
        db.session.add(signup)
    db.session.flush()
    _recount(activity_id)
    db.session.commit()
    return signup, True


@retry_transient
def cancel_signup(resident_id: int, activity_id: int) -> None:
    """Give the place back; cancelling when not signed up is harmless."""
    get_activity(activity_id)
    lock_row(Activity, activity_id)
    db.session.execute(
        sa.update(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.resident_id == resident_id,
            ActivitySignup.status == SignupStatus.ACTIVE,
        )
        .values(status=SignupStatus.CANCELLED, updated_at=utcnow())
    )
    _recount(activity_id)
    db.session.commit()


def mark_attendance(principal: Principal, activity_id: int, resident_ids: list[int]) -> dict:
    """A manager of the activity's communities marks signed-up residents as attended, each
    once (attendance rewards follow, service_hub/coupons/rewards.py)."""
    activity = get_activity(activity_id)
    communities = db.session.scalars(
        sa.select(Community)
        .join(ActivityCommunity, ActivityCommunity.community_id == Community.id)
        .where(ActivityCommunity.activity_id == activity_id)
    ).all()
    _check_region(principal, communities)
    if utcnow() < activity.starts_at - ATTENDANCE_OPENS_BEFORE:
        raise Conflict(
            "Attendance is taken once the activity begins.",
            code="attendance_not_open",
            message_zh="活动尚未开始",
        )
    wanted = sorted(set(resident_ids))
    marked = sorted(
        db.session.scalars(
            sa.update(ActivitySignup)
            .where(
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.resident_id.in_(wanted),
                ActivitySignup.status == SignupStatus.ACTIVE,
            )
            .values(status=SignupStatus.ATTENDED, updated_at=utcnow())
            .returning(ActivitySignup.resident_id)
        )
    )
    already = sorted(
        set(
            db.session.scalars(
                sa.select(ActivitySignup.resident_id).where(
                    ActivitySignup.activity_id == activity_id,
                    ActivitySignup.resident_id.in_(wanted),
                    ActivitySignup.status == SignupStatus.ATTENDED,
                )
            )
        )
        - set(marked)
    )
    # Coupons: attending a signed-up activity may earn a participation reward.
    granted = reward_activity_attendance(activity_id, marked)
    commit_and_relay()
    return {
        "marked": marked,
        "already": already,
        "not_signed_up": sorted(set(wanted) - set(marked) - set(already)),
        "coupons_granted": granted,
    }

"""Demo data beyond the order history: likes, upcoming activities and community Q&A."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from models import (
    Activity,
    ActivityCommunity,
    Community,
    CommunityBinding,
    EngineerLike,
    ModerationStatus,
    OrderStatus,
    Question,
    ServiceOrder,
    StaffUser,
)
from models.base import utcnow
from service_hub.plumbing.extensions import db

QUESTIONS = (
    "净水器滤芯多久换一次？",
    "空调清洗需要准备什么？",
    "壁挂炉冬天前要保养吗？",
    "热水器出水不热是什么原因？",
    "家里水垢多，适合装软水机吗？",
)
ACTIVITIES = (
    ("净水知识讲座", "小区会所"),
    ("空调免费检测日", "小区广场"),
    ("冬季采暖安全课", "物业活动室"),
)


def seed_extras(seed: int) -> dict[str, int]:
    """Add likes from served residents, activities and questions; returns the counts."""
    rng = random.Random(seed)
    served = db.session.execute(
        sa.select(ServiceOrder.resident_id, ServiceOrder.engineer_id)
        .distinct()
        .where(ServiceOrder.status == OrderStatus.COMPLETED)
    ).all()
    likes = [
        {"resident_id": r, "engineer_id": e, "created_at": utcnow()}
        for r, e in served
        if rng.random() < 0.25
    ]
    db.session.execute(sa.insert(EngineerLike), likes)
    manager_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.role == "manager"))
    communities = db.session.scalars(sa.select(Community.id).order_by(Community.id)).all()
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    activities = 0
    for community_id in communities[::5]:
        title, place = rng.choice(ACTIVITIES)
        start = now + timedelta(days=rng.randint(2, 20), hours=rng.choice((1, 3, 5)))
        activity = Activity(
            title=title,
            place=place,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            signup_opens_at=now,
            signup_closes_at=start,
            capacity=rng.choice((20, 30, 50)),
            created_by=manager_id,
        )
        db.session.add(activity)
        db.session.flush()
        db.session.add(ActivityCommunity(activity_id=activity.id, community_id=community_id))
        activities += 1
    askers = db.session.execute(
        sa.select(
            CommunityBinding.community_id, sa.func.min(CommunityBinding.resident_id)
        ).group_by(CommunityBinding.community_id)
    ).all()
    questions = [
        {
            "community_id": c,
            "resident_id": r,
            "text": rng.choice(QUESTIONS),
            "photos": [],
            "status": ModerationStatus.VISIBLE,
            "answer_count": 0,
            "created_at": now - timedelta(days=rng.randint(0, 30)),
        }
        for c, r in askers
        if rng.random() < 0.5
    ]
    db.session.execute(sa.insert(Question), questions)
    db.session.commit()
    return {"likes": len(likes), "activities": activities, "questions": len(questions)}

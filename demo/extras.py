"""Demo data beyond the order history: likes, engineers' points, upcoming activities,
community Q&A (answered, unanswered and held for moderation), and outreach (broadcasts,
engineer1's announced visit, coupon campaigns: demo.outreach)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from demo import names, outreach
from models import (
    Activity,
    ActivityCommunity,
    Answer,
    Community,
    CommunityBinding,
    Engineer,
    EngineerCommunity,
    EngineerLike,
    ModerationStatus,
    OrderEvent,
    OrderStatus,
    PointsEntry,
    Question,
    ServiceOrder,
    StaffUser,
)
from models.base import utcnow
from models.order import ACCEPTED_WORK
from service_hub.plumbing.extensions import db

ACTIVITIES = (
    ("净水知识讲座", "小区会所"),
    ("空调免费检测日", "小区广场"),
    ("冬季采暖安全课", "物业活动室"),
)
POINTS_SINCE = timedelta(days=90)  # the points programme started then
HELD_QUESTIONS, HELD_ANSWERS = 2, 2


def seed_extras(seed: int, now: datetime | None = None) -> dict[str, int]:
    """Add likes, points, activities, questions and outreach; returns the counts.

    `now` defaults to the seeded city's: the moment of its latest order event."""
    rng = random.Random(seed)
    now = now or db.session.scalar(sa.select(sa.func.max(OrderEvent.at))) or utcnow()
    served = db.session.execute(
        sa.select(ServiceOrder.resident_id, ServiceOrder.engineer_id)
        .distinct()
        .where(ServiceOrder.status == OrderStatus.COMPLETED)
        .order_by(ServiceOrder.resident_id, ServiceOrder.engineer_id)
    ).all()
    likes = [
        {"resident_id": r, "engineer_id": e, "created_at": now}
        for r, e in served
        if rng.random() < 0.25
    ]
    db.session.execute(sa.insert(EngineerLike), likes)
    counts = {"likes": len(likes), "points_entries": _points(now)}
    communities = db.session.scalars(sa.select(Community.id).order_by(Community.id)).all()
    counts["activities"] = _activities(rng, communities[::5], now.replace(minute=0, second=0))
    counts.update(_questions(rng, now))
    outreach.announce_visit(now)
    counts.update(outreach.broadcast_visits(now, seed))
    counts.update(outreach.run_campaigns(now, seed))
    db.session.commit()
    return counts


def _points(now: datetime) -> int:
    """Engineers' ledger lines for orders whose work was accepted (confirmed or
    auto-confirmed) since the programme began, as points.ledger.award_for_completed_order
    writes them at acceptance."""
    points = current_app.config["POINTS_ORDER_COMPLETED"]
    rows = [
        {"owner_kind": "engineer", "owner_id": engineer_id, "points": points,
         "reason": "order_completed", "source_event": f"order:{order_id}:completed",
         "created_at": completed_at}
        for order_id, engineer_id, completed_at in db.session.execute(
            sa.select(ServiceOrder.id, ServiceOrder.engineer_id, ServiceOrder.confirmed_at)
            .where(ServiceOrder.acceptance.in_(ACCEPTED_WORK),
                   ServiceOrder.confirmed_at >= now - POINTS_SINCE)
            .order_by(ServiceOrder.id))
    ]  # fmt: skip
    if points and rows:
        db.session.execute(sa.insert(PointsEntry), rows)
    return len(rows) if points else 0


def _activities(rng: random.Random, communities: list[int], now: datetime) -> int:
    manager_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "manager"))
    for community_id in communities:
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
    return len(communities)


def _questions(rng: random.Random, now: datetime) -> dict[str, int]:
    """Two or three questions in every community, asked by its residents over the last month;
    an engineer serving it answered all but the newest. A few more questions, and second
    answers, are held by the content check for staff."""
    residents = defaultdict(list)
    for community_id, resident_id in db.session.execute(
        sa.select(CommunityBinding.community_id, CommunityBinding.resident_id).order_by(
            CommunityBinding.id
        )
    ):
        residents[community_id].append(resident_id)
    answerers = defaultdict(list)  # community → (engineer id, staff user id)
    for community_id, engineer_id, staff_id in db.session.execute(
        sa.select(EngineerCommunity.community_id, Engineer.id, Engineer.staff_user_id)
        .join(Engineer, Engineer.id == EngineerCommunity.engineer_id)
        .order_by(EngineerCommunity.community_id, EngineerCommunity.standing.desc(), Engineer.id)
    ):
        answerers[community_id].append((engineer_id, staff_id))
    texts = list(names.QUESTIONS)
    questions, replies = [], []
    for community_id in sorted(residents):
        asked = sorted(rng.sample(range(2, 30 * 24), rng.randint(2, 3)), reverse=True)
        for n, hours_ago in enumerate(asked):  # oldest first; the newest waits for an answer
            text = rng.choice(texts)
            at = now - timedelta(hours=hours_ago, minutes=rng.randrange(60))
            question = {"community_id": community_id, "text": text, "photos": [],
                        "resident_id": rng.choice(residents[community_id]),
                        "status": ModerationStatus.VISIBLE, "answer_count": 0,
                        "created_at": at}  # fmt: skip
            questions.append(question)
            if n < len(asked) - 1 and answerers[community_id]:
                engineer_id, staff_id = rng.choice(answerers[community_id][:3])
                later = at + timedelta(hours=rng.uniform(0.5, min(20, hours_ago)))
                replies.append((question, {"staff_user_id": staff_id, "engineer_id": engineer_id,
                                           "text": names.QUESTIONS[text][0], "photos": [],
                                           "status": ModerationStatus.VISIBLE,
                                           "created_at": later}))  # fmt: skip
                question["answer_count"] = 1
    # Held for staff: a few more questions, and second answers to answered ones.
    for text in names.HELD_QUESTIONS[: min(HELD_QUESTIONS, len(residents))]:
        community_id = rng.choice(sorted(residents))
        questions.append({"community_id": community_id, "text": text, "photos": [],
                          "resident_id": rng.choice(residents[community_id]),
                          "status": ModerationStatus.HELD, "answer_count": 0,
                          "created_at": now - timedelta(hours=rng.uniform(1, 30))})  # fmt: skip
    for (question, answer), text in zip(rng.sample(replies, min(HELD_ANSWERS, len(replies))),
                                        names.HELD_ANSWERS, strict=False):  # fmt: skip
        later = answer["created_at"] + (now - answer["created_at"]) / 2
        replies.append((question, {**answer, "text": text, "status": ModerationStatus.HELD,
                                   "created_at": later}))  # fmt: skip
    ids = db.session.scalars(
        sa.insert(Question).returning(Question.id, sort_by_parameter_order=True), questions
    ).all()
    for question, question_id in zip(questions, ids, strict=True):
        question["id"] = question_id
    answers = [{"question_id": question["id"], **answer} for question, answer in replies]
    if answers:
        db.session.execute(sa.insert(Answer), answers)
    return {"questions": len(questions), "answers": len(answers)}

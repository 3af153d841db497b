"""What the demo's order history leaves for managers to act on: a follow-up for every
complaint, every dispute of completed work and every low rating (those older than a week
closed with a note), a fresh low rating, and reviews the content check held for moderation."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from demo import names
from models import FollowUp, FollowUpStatus, ReviewStatus
from service_hub.plumbing.extensions import db

LOW_RATING = 2  # service_hub.reviews.service.LOW_RATING: opens a follow-up
CLOSED_AFTER = timedelta(days=7)  # older follow-ups were dealt with
HELD_REVIEWS = 3


def review_for_moderation(plans: list[tuple], now: datetime, seed: int) -> None:
    """Before the plans are written: the newest untouched completed order gets a low rating,
    and the newest good reviews are held by the content check (they name a way around the
    platform)."""
    rng = random.Random(f"{seed}-reviews")
    fresh = [i for i, plan in enumerate(plans)
             if plan[0]["status"] == "completed" and plan[4] is None and not plan[0]["complaint"]
             and "_awaiting" not in plan[0]
             and plan[0]["completed_at"] <= now - timedelta(hours=3)]  # fmt: skip
    if fresh:
        i = max(fresh, key=lambda i: plans[i][0]["completed_at"])
        order = plans[i][0]
        review = {"resident_id": order["resident_id"], "engineer_id": order["engineer_id"],
                  "community_id": order["community_id"], "rating": LOW_RATING,
                  "text": names.REVIEW_TEXTS[LOW_RATING][0],
                  "created_at": order["completed_at"] + timedelta(hours=2),
                  "status": ReviewStatus.VISIBLE}  # fmt: skip
        plans[i] = (*plans[i][:4], review)
    reviews = [plan[4] for plan in plans if plan[4]]
    for review in reviews:
        review.setdefault("status", ReviewStatus.VISIBLE)
    good = sorted((review for review in reviews if review["rating"] >= 4),
                  key=lambda review: review["created_at"])  # fmt: skip
    for review in good[-HELD_REVIEWS:]:
        review.update(status=ReviewStatus.HELD, text=rng.choice(names.HELD_REVIEWS))


def open_follow_ups(plans: list[tuple], manager_id: int, now: datetime, seed: int) -> int:
    """After the plans are written: a follow-up per complaint and per low rating, as the live
    code opens them; those older than a week closed by the manager. Returns how many."""
    rng, rows = random.Random(f"{seed}-follow-ups"), []
    for order, events, _, _, review in plans:
        common = {"order_id": order["id"], "community_id": order["community_id"],
                  "engineer_id": order["engineer_id"]}  # fmt: skip
        if order["complaint"]:
            at = next(event[5] for event in events if event[0] == "complain")
            rows.append({**common, "kind": "complaint", "summary": order["complaint"],
                         "created_at": at})  # fmt: skip
        if order.get("disputed_at"):  # the resident disputed the work (completion.service)
            rows.append({**common, "kind": "dispute", "summary": order["dispute_reason"],
                         "created_at": order["disputed_at"]})  # fmt: skip
        if review and review["rating"] <= LOW_RATING:
            summary = f"{review['rating']}★ {review['text'][:200]}"
            rows.append({**common, "kind": "low_rating", "summary": summary,
                         "created_at": review["created_at"]})  # fmt: skip
    for row in rows:
        closed = row["created_at"] + rng.uniform(2, 72) * timedelta(hours=1)
        if row["created_at"] < now - CLOSED_AFTER:
            row.update(status=FollowUpStatus.CLOSED, note=rng.choice(names.FOLLOW_UP_NOTES),
                       closed_by=manager_id, closed_at=min(closed, now))  # fmt: skip
        else:
            row.update(status=FollowUpStatus.OPEN, note=None, closed_by=None, closed_at=None)
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(FollowUp), rows[start : start + 1000])
    return len(rows)

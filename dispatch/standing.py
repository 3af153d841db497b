"""Keep each engineer's standing per community current, and rebuild it from scratch.

The incremental path (a job per event, recomputing one engineer-community pair) and the
rebuild (every pair, from grouped queries) gather the same facts and apply the same pure
formula (dispatch/standing_formula.py), so their results are equal; a test proves it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from flask import current_app

from dispatch.standing_formula import StandingFacts, standing
from models import (
    EngineerCommunity,
    EngineerLike,
    OrderStatus,
    OutboxMessage,
    Review,
    ReviewStatus,
    ServiceOrder,
)
from models.base import utcnow
from models.order import ACCEPTED_WORK
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import record
from service_hub.plumbing.timefmt import local_zone

Pair = tuple[int, int]  # (engineer_id, community_id)


def _today() -> date:
    return utcnow().astimezone(local_zone()).date()


def request_recompute(engineer_id: int, community_ids: list[int]) -> None:
    """Queue a recompute of the engineer's standing in these communities (caller commits)."""
    for community_id in set(community_ids):
        record(
            "standing_recompute",
            uuid.uuid4().hex,
            {"engineer_id": engineer_id, "community_id": community_id},
        )


def _completed(pair_filter) -> sa.Select:
    """Orders that count as completed: done, and the work accepted by the resident (or by
    the system when they did not answer); a pending or disputed one does not count yet.
    Their age is that of the work (completed_at)."""
    return sa.select(
        ServiceOrder.engineer_id, ServiceOrder.community_id, ServiceOrder.completed_at
    ).where(
        ServiceOrder.status == OrderStatus.COMPLETED,
        ServiceOrder.acceptance.in_(ACCEPTED_WORK),
        pair_filter,
    )


def _facts(pair_filter_orders, pair_filter_reviews) -> dict[Pair, StandingFacts]:
    """Facts for every pair the filters admit, from four grouped queries."""
    ratings = {
        (e, c): (n, s)
        for e, c, n, s in db.session.execute(
            sa.select(
                Review.engineer_id, Review.community_id, sa.func.count(), sa.func.sum(Review.rating)
            )
            .where(Review.status == ReviewStatus.VISIBLE, pair_filter_reviews)
            .group_by(Review.engineer_id, Review.community_id)
        )
    }
    complaints = dict(
        ((e, c), n)
        for e, c, n in db.session.execute(
            sa.select(ServiceOrder.engineer_id, ServiceOrder.community_id, sa.func.count())
            .where(ServiceOrder.complaint.is_not(None), pair_filter_orders)
            .group_by(ServiceOrder.engineer_id, ServiceOrder.community_id)
        )
    )
    # A like counts in a community where the engineer completed an order for that resident.
    served = (
        sa.select(ServiceOrder.engineer_id, ServiceOrder.community_id, ServiceOrder.resident_id)
        .where(ServiceOrder.status == OrderStatus.COMPLETED, pair_filter_orders)
        .distinct()
        .subquery()
    )
    likes = dict(
        ((e, c), n)
        for e, c, n in db.session.execute(
            sa.select(served.c.engineer_id, served.c.community_id, sa.func.count())
            .join(
                EngineerLike,
                sa.and_(
                    EngineerLike.engineer_id == served.c.engineer_id,
                    EngineerLike.resident_id == served.c.resident_id,
                ),
            )
            .group_by(served.c.engineer_id, served.c.community_id)
        )
    )
    zone = local_zone()
    completed: dict[Pair, list[date]] = defaultdict(list)
    for e, c, at in db.session.execute(
        _completed(pair_filter_orders).execution_options(yield_per=10_000)
    ):
        if at is not None:
            completed[(e, c)].append(at.astimezone(zone).date())
    pairs = set(ratings) | set(complaints) | set(likes) | set(completed)
    return {
        pair: StandingFacts(
            rating_count=ratings.get(pair, (0, 0))[0],
            rating_sum=int(ratings.get(pair, (0, 0))[1] or 0),
            complaints=complaints.get(pair, 0),
            likes=likes.get(pair, 0),
            completed_on=tuple(sorted(completed.get(pair, ()))),
        )
        for pair in pairs
    }


EMPTY = StandingFacts(0, 0, 0, 0, ())


def _store(link: EngineerCommunity, facts: StandingFacts, as_of: date) -> None:
    value, breakdown = standing(facts, as_of, current_app.config["STANDING_WEIGHTS"])
    link.standing = value
    link.standing_breakdown = breakdown
    link.completed_orders = len(facts.completed_on)
    link.scored_at = utcnow()


def recompute_pair(engineer_id: int, community_id: int, as_of: date | None = None) -> float | None:
    """Recompute one engineer's standing in one community; None if they no longer serve it."""
    link = db.session.scalar(
        sa.select(EngineerCommunity)
        .where(
            EngineerCommunity.engineer_id == engineer_id,
            EngineerCommunity.community_id == community_id,
        )
        .with_for_update()
    )
    if link is None:
        db.session.rollback()
        return None
    orders = sa.and_(
        ServiceOrder.engineer_id == engineer_id, ServiceOrder.community_id == community_id
    )
    reviews = sa.and_(Review.engineer_id == engineer_id, Review.community_id == community_id)
    facts = _facts(orders, reviews).get((engineer_id, community_id), EMPTY)
    _store(link, facts, as_of or _today())
    # Its rating, reviews and rank on the community's cached home (communities/home_cache.py).
    record("community_home_changed", uuid.uuid4().hex, {"community_id": community_id})
    db.session.commit()
    return link.standing


def rebuild(as_of: date | None = None, progress=None) -> int:
    """Recompute every engineer's standing in every community they serve; returns the count."""
    day = as_of or _today()
    facts = _facts(sa.true(), sa.true())
    count = 0
    for link in db.session.scalars(sa.select(EngineerCommunity).order_by(EngineerCommunity.id)):
        _store(link, facts.get((link.engineer_id, link.community_id), EMPTY), day)
        count += 1
        if progress and count % 10_000 == 0:
            progress(f"{count} standings recomputed")
    db.session.commit()
    return count


def handle_recompute_message(message: OutboxMessage) -> None:
    """Outbox handler for "standing_recompute"."""
    recompute_pair(message.payload["engineer_id"], message.payload["community_id"])


def refresh_all() -> int:
    """Periodic (daily): decay moves with the calendar even when nothing else happens."""
    return rebuild()

"""Keep per-community monthly counters current, and rebuild them from raw events.

The incremental path (`count_event`, `count_rating`) and the rebuild read the same facts:
order events by their action and time, reviews by their time, each in its local month.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from models import CommunityMonthKpi, OrderEvent, Review
from service_hub.extensions import db
from service_hub.sql import upsert_increment
from service_hub.timefmt import month_of

# order event action → counter it increments
ACTION_COUNTERS = {
    "create": "orders_created",
    "complete": "orders_completed",
    "cancel": "orders_cancelled",
    "complain": "complaints",
}
COUNTERS = (
    "orders_created",
    "orders_completed",
    "orders_cancelled",
    "complaints",
    "rating_sum",
    "rating_count",
)


def _bump(community_id: int, moment: datetime, increments: dict[str, int]) -> None:
    key = {"community_id": community_id, "month": month_of(moment)}
    upsert_increment(
        CommunityMonthKpi,
        key,
        {**dict.fromkeys(COUNTERS, 0), **increments},
        ["community_id", "month"],
    )


def count_event(event: OrderEvent) -> None:
    """Count an order event in its community's month, in the caller's transaction."""
    counter = ACTION_COUNTERS.get(event.action)
    if counter:
        _bump(event.community_id, event.at, {counter: 1})


def count_rating(review: Review) -> None:
    """Count a review's rating in its community's month, in the caller's transaction."""
    _bump(review.community_id, review.created_at, {"rating_sum": review.rating, "rating_count": 1})


def count_rating_change(review: Review, delta: int) -> None:
    """An edited rating moves the sum of the month the review was first counted in."""
    _bump(review.community_id, review.created_at, {"rating_sum": delta})


def rebuild(progress=None) -> int:
    """Recompute every rollup from order events and reviews; returns the rows written.

    Streams the raw rows, so memory grows with communities × months, not with orders.
    """
    totals: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    if db.session.get_bind().dialect.name == "postgresql":
        # Events that commit while we rebuild wait for this lock and bump the rebuilt rows
        # afterwards; events committed before it are in what we read. None is lost.
        db.session.execute(sa.text("LOCK TABLE community_month_kpi IN EXCLUSIVE MODE"))
    events = db.session.execute(
        sa.select(OrderEvent.community_id, OrderEvent.action, OrderEvent.at)
        .where(OrderEvent.action.in_(ACTION_COUNTERS))
        .execution_options(yield_per=5000)
    )
    for n, (community_id, action, at) in enumerate(events, 1):
        totals[(community_id, month_of(at))][ACTION_COUNTERS[action]] += 1
        if progress and n % 50_000 == 0:
            progress(f"{n} order events read")
    reviews = db.session.execute(
        sa.select(Review.community_id, Review.rating, Review.created_at).execution_options(
            yield_per=5000
        )
    )
    for community_id, rating, created_at in reviews:
        row = totals[(community_id, month_of(created_at))]
        row["rating_sum"] += rating
        row["rating_count"] += 1
    db.session.execute(sa.delete(CommunityMonthKpi))
    rows = [{"community_id": c, "month": m, **counts} for (c, m), counts in totals.items()]
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(CommunityMonthKpi), rows[start : start + 1000])
    db.session.commit()
    return len(rows)

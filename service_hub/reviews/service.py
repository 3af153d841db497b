"""Review and like rules.

Reviews: only the resident who owns a completed order reviews it, once (a review of work
still waiting for the resident's acceptance accepts it: the lifecycle's confirm); text goes through
WeChat's content check (risky refused, doubtful held for a manager); the author may edit
within REVIEW_EDIT_WINDOW_SECONDS; managers reply, hide with a reason (kept, not deleted) and
approve held ones. A rating of 2 or less opens a follow-up for managers. Every change that
moves an engineer's standing queues its recompute in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from dispatch.standing import request_recompute
from models import (
    Acceptance,
    EngineerLike,
    OrderStatus,
    Resident,
    Review,
    ReviewStatus,
    ServiceOrder,
)
from models.base import utcnow
from models.order_lifecycle import Actor, apply, illegal_transition, lock_order
from service_hub.auth.regions import require_region
from service_hub.auth.tokens import Principal
from service_hub.coupons.rewards import grant_participation_rewards
from service_hub.kpis.rollup import count_rating, count_rating_change
from service_hub.moderation import check_text
from service_hub.plumbing.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay
from service_hub.reviews.follow_ups import open_follow_up
from service_hub.uploads.storage import validate_photo_urls

LOW_RATING = 2


def _moderate(resident_id: int, text: str) -> str:
    """The content verdict for a resident's text, with no transaction held during the call."""
    if not text.strip():
        return "pass"
    openid = db.session.scalar(sa.select(Resident.openid).where(Resident.id == resident_id))
    db.session.rollback()
    return check_text(openid, text)


def review_refusal(order: ServiceOrder, resident_id: int) -> AppError | None:
    """Why the resident may not review the order now (None: they may, unless it has its
    review already). The one rule for the review route and the order's `can_review`."""
    if order.resident_id != resident_id:
        return NotFound(f"No order {order.id}.", code="order_not_found", message_zh="工单不存在")
    if order.status != OrderStatus.COMPLETED:
        return illegal_transition(order, "review")
    return None


def _order_of_resident(resident_id: int, order_id: int) -> ServiceOrder:
    order = lock_order(order_id)
    refusal = review_refusal(order, resident_id)
    if refusal is not None:
        raise refusal
    return order


def create_review(
    resident_id: int, order_id: int, rating: int, text: str = "", photos: list[str] = ()
) -> Review:
    """The owner of a completed order rates it, once."""
    _order_of_resident(resident_id, order_id)
    photos = validate_photo_urls(list(photos))
    verdict = _moderate(resident_id, text)
    order = _order_of_resident(resident_id, order_id)
    if order.acceptance == Acceptance.PENDING:
        # Reviewing work that waits for the resident accepts it (docs/ranking.md): the
        # lifecycle's confirm, in this transaction; a disputed order stays disputed.
        apply(order, "confirm", Actor("resident", resident_id))
    review = Review(
        order_id=order.id,
        resident_id=resident_id,
        engineer_id=order.engineer_id,
        community_id=order.community_id,
        rating=rating,
        text=text,
        photos=photos,
        status=ReviewStatus.VISIBLE if verdict == "pass" else ReviewStatus.HELD,
        created_at=utcnow(),
    )
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            "This order has been reviewed already.",
            code="already_reviewed",
            message_zh="该工单已评价",
        ) from exc
    count_rating(review)
    _after_rating(review, order)
    if photos:  # coupons: a review with photos may earn a participation reward
        grant_participation_rewards(
            "review_with_photos", resident_id, order.community_id, f"review:{review.id}"
        )
    commit_and_relay()
    return review


def _after_rating(review: Review, order: ServiceOrder) -> None:
    if review.rating <= LOW_RATING:
        open_follow_up("low_rating", order, f"{review.rating}★ {review.text[:200]}")
    request_recompute(review.engineer_id, [review.community_id])


def get_review(review_id: int) -> Review:
    """The review, or a 404."""
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound(f"No review {review_id}.", code="review_not_found", message_zh="评价不存在")
    return review


def edit_review(resident_id: int, review_id: int, changes: dict) -> Review:
    """The author changes rating, text or photos within the edit window."""
    review = get_review(review_id)
    if review.resident_id != resident_id:
        raise Forbidden("Only its author edits a review.", code="not_author")
    window = timedelta(seconds=current_app.config["REVIEW_EDIT_WINDOW_SECONDS"])
    if utcnow() > review.created_at + window:
        raise Conflict(
            "The review can no longer be edited.",
            code="edit_window_closed",
            message_zh="评价已超过可修改时间",
        )
    if review.status == ReviewStatus.HIDDEN:
        raise Conflict("A hidden review cannot be edited.", code="review_hidden")
    photos = validate_photo_urls(changes["photos"]) if "photos" in changes else None
    verdict = _moderate(resident_id, changes["text"]) if "text" in changes else None
    review = db.session.scalar(
        sa.select(Review)
        .where(Review.id == review_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if "rating" in changes and changes["rating"] != review.rating:
        count_rating_change(review, changes["rating"] - review.rating)
        review.rating = changes["rating"]
    if "text" in changes:
        review.text = changes["text"]
        review.status = ReviewStatus.VISIBLE if verdict == "pass" else ReviewStatus.HELD
    if photos is not None:
        review.photos = photos
    review.edited_at = utcnow()
    order = db.session.get(ServiceOrder, review.order_id)
    _after_rating(review, order)
    commit_and_relay()
    return review


def reply(principal: Principal, review_id: int, text: str) -> Review:
    """A manager of the review's region answers it publicly."""
    review = get_review(review_id)
    require_region(principal, review.community_id)
    review.reply_text, review.replied_by, review.replied_at = text, principal.id, utcnow()
    db.session.commit()
    return review


def set_visibility(
    principal: Principal, review_id: int, decision: str, reason: str | None
) -> Review:
    """A manager hides a review (reason required, the review is kept), shows it again, or
    approves a held one."""
    review = get_review(review_id)
    require_region(principal, review.community_id)
    if decision == "hide":
        if not (reason or "").strip():
            raise InvalidInput("Say why the review is hidden.", fields={"reason": ["required"]})
        review.status = ReviewStatus.HIDDEN
        review.hidden_by, review.hidden_at, review.hidden_reason = principal.id, utcnow(), reason
    else:
        review.status = ReviewStatus.VISIBLE
    request_recompute(review.engineer_id, [review.community_id])
    commit_and_relay()
    return review


def engineer_reviews_query(engineer_id: int) -> sa.Select:
    """An engineer's visible reviews, newest first."""
    return (
        sa.select(Review)
        .where(Review.engineer_id == engineer_id, Review.status == ReviewStatus.VISIBLE)
        .order_by(Review.created_at.desc(), Review.id.desc())
    )


def _served_communities(resident_id: int, engineer_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(ServiceOrder.community_id)
            .distinct()
            .where(
                ServiceOrder.resident_id == resident_id,
                ServiceOrder.engineer_id == engineer_id,
                ServiceOrder.status == OrderStatus.COMPLETED,
            )
        )
    )


def like(resident_id: int, engineer_id: int) -> bool:
    """Like an engineer who completed an order for me; True if new, False if already liked."""
    communities = _served_communities(resident_id, engineer_id)
    if not communities:
        raise Forbidden(
            "You can like an engineer once they have completed an order for you.",
            code="not_served",
            message_zh="师傅为您完成服务后才能点赞",
        )
    db.session.add(EngineerLike(resident_id=resident_id, engineer_id=engineer_id))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    request_recompute(engineer_id, communities)
    commit_and_relay()
    return True


def unlike(resident_id: int, engineer_id: int) -> None:
    """Take a like back (harmless when there is none)."""
    removed = db.session.execute(
        sa.delete(EngineerLike).where(
            EngineerLike.resident_id == resident_id, EngineerLike.engineer_id == engineer_id
        )
    ).rowcount
    if removed:
        request_recompute(engineer_id, _served_communities(resident_id, engineer_id))
    commit_and_relay()

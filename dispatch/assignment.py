"""Offer an order to the best engineer, and settle accepts, declines and expiries exactly once.

Every step locks the order row first, so a decline racing an expiry, or an accept racing
either, is decided by whoever takes the lock first; the other sees the new state and stops.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from dispatch.ranking import Candidate, OrderNeeds, rank
from models import (
    Community,
    DispatchOffer,
    Engineer,
    EngineerCommunity,
    EngineerSkill,
    OfferStatus,
    OrderStatus,
    ServiceOrder,
    ServiceType,
)
from models.base import utcnow
from models.butler import active_butler_of
from models.order import OPEN_STATUSES
from models.order_lifecycle import SYSTEM, Actor, apply, check, lock_order
from service_hub.plumbing.errors import AppError
from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import job_queue
from service_hub.plumbing.outbox import commit_and_relay
from service_hub.plumbing.timefmt import local_zone

log = logging.getLogger(__name__)

DISPATCHABLE = (OrderStatus.CREATED, OrderStatus.DISPATCHING)


def load_candidates(order: ServiceOrder) -> list[Candidate]:
    """Every engineer serving the order's community, with what ranking needs to know."""
    rows = db.session.execute(
        sa.select(Engineer, EngineerCommunity.standing)
        .join(EngineerCommunity, EngineerCommunity.engineer_id == Engineer.id)
        .where(EngineerCommunity.community_id == order.community_id)
    ).all()
    ids = [engineer.id for engineer, _ in rows]
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for engineer_id, skill, level in db.session.execute(
        sa.select(EngineerSkill.engineer_id, EngineerSkill.skill, EngineerSkill.level).where(
            EngineerSkill.engineer_id.in_(ids)
        )
    ):
        skills[engineer_id][skill] = level
    # Load counts open orders and pending offers, so nobody collects offers past their limit.
    load: dict[int, int] = defaultdict(int)
    for engineer_id, count in db.session.execute(
        sa.select(ServiceOrder.engineer_id, sa.func.count())
        .where(ServiceOrder.engineer_id.in_(ids), ServiceOrder.status.in_(OPEN_STATUSES))
        .group_by(ServiceOrder.engineer_id)
    ):
        load[engineer_id] += count
    for engineer_id, count in db.session.execute(
        sa.select(DispatchOffer.engineer_id, sa.func.count())
        .where(DispatchOffer.engineer_id.in_(ids), DispatchOffer.status == OfferStatus.PENDING)
        .group_by(DispatchOffer.engineer_id)
    ):
        load[engineer_id] += count
    default_max = current_app.config["MAX_OPEN_ORDERS"]
    butler_id = active_butler_of(order.resident_id)
    return [
        Candidate(
            engineer_id=engineer.id,
            serves_community=True,
            skills=skills[engineer.id],
            on_duty=engineer.on_duty,
            open_orders=load[engineer.id],
            max_open_orders=default_max
            if engineer.max_open_orders is None
            else engineer.max_open_orders,
            standing=standing,
            base=(engineer.base_lat, engineer.base_lng),
            working_hours=engineer.working_hours,
            is_butler=engineer.id == butler_id,
        )
        for engineer, standing in rows
    ]


def _needs(order: ServiceOrder) -> OrderNeeds:
    service_type = db.session.get(ServiceType, order.service_type_id)
    community = db.session.get(Community, order.community_id)
    offered = db.session.scalars(
        sa.select(DispatchOffer.engineer_id).where(DispatchOffer.order_id == order.id)
    ).all()
    return OrderNeeds(
        skill=service_type.skill,
        min_level=service_type.min_skill_level,
        community_location=(community.lat, community.lng),
        preferred_engineer_id=order.preferred_engineer_id,
        excluded_engineer_ids=frozenset(offered),
        local_window=local_window(order),
    )


def local_window(order: ServiceOrder) -> tuple[int, str, str] | None:
    """The order's requested window in local time, as ranking compares it to working hours.

    A window spanning midnight is taken as ending at 23:59 of its first day.
    """
    if order.window_start is None:
        return None
    zone = local_zone()
    start = order.window_start.astimezone(zone)
    end = (order.window_end or order.window_start).astimezone(zone)
    end_text = end.strftime("%H:%M") if end.date() == start.date() else "23:59"
    return start.isoweekday(), start.strftime("%H:%M"), end_text


def dispatch(order_id: int) -> int | None:
    """Offer the order to the best eligible engineer; returns the offer id, or None.

    Safe to run twice: an order that is no longer waiting for an engineer is left alone.
    """
    order = lock_order(order_id)
    if order.status not in DISPATCHABLE:
        db.session.rollback()
        return None
    if order.status == OrderStatus.CREATED:
        apply(order, "dispatch", SYSTEM)
    needs = _needs(order)
    eligible, rejected = rank(load_candidates(order), needs, current_app.config["DISPATCH_WEIGHTS"])
    preferred_note = None
    if needs.preferred_engineer_id and needs.preferred_engineer_id in rejected:
        preferred_note = rejected[needs.preferred_engineer_id]
    elif needs.preferred_engineer_id and all(
        s.engineer_id != needs.preferred_engineer_id for s in eligible
    ):
        preferred_note = "does_not_serve_community"
    if not eligible:
        reasons = sorted(set(rejected.values())) or ["no_engineer_serves_community"]
        why = "no eligible engineer: " + ", ".join(reasons)
        breakdown = {
            "rejected": {str(k): v for k, v in rejected.items()},
            "preferred_skipped": preferred_note,
        }
        apply(order, "unassign", SYSTEM, why, unassigned_reason=why, dispatch_breakdown=breakdown)
        commit_and_relay()
        return None
    best = eligible[0]
    timeout = timedelta(seconds=current_app.config["OFFER_TIMEOUT_SECONDS"])
    offer = DispatchOffer(
        order_id=order.id,
        engineer_id=best.engineer_id,
        dispatch_breakdown=best.breakdown,
        offered_at=utcnow(),
        expires_at=utcnow() + timeout,
    )
    db.session.add(offer)
    breakdown = {
        "engineer_id": best.engineer_id,
        **best.breakdown,
        "candidates": len(eligible),
        "rejected": {str(k): v for k, v in rejected.items()},
        "preferred_skipped": preferred_note,
    }
    why = f"offered to engineer {best.engineer_id}"
    apply(order, "offer", SYSTEM, why, dispatch_breakdown=breakdown)
    db.session.flush()
    offer_id = offer.id
    commit_and_relay()
    try:
        job_queue().enqueue_in("dispatch", timeout, expire_offer, offer_id)
    except Exception:
        log.exception("could not schedule expiry of offer %s", offer_id)
    return offer_id


def _pending_offer(order: ServiceOrder, engineer_id: int) -> DispatchOffer | None:
    return db.session.scalars(
        sa.select(DispatchOffer).where(
            DispatchOffer.order_id == order.id,
            DispatchOffer.engineer_id == engineer_id,
            DispatchOffer.status == OfferStatus.PENDING,
        )
    ).first()


def accept(order_id: int, engineer_id: int) -> ServiceOrder:
    """The offered engineer takes the order; the community hears of the visit."""
    order = lock_order(order_id)
    actor = Actor("engineer", engineer_id)
    check(order, "accept", actor)
    offer = _pending_offer(order, engineer_id)
    now = utcnow()
    if offer.expires_at <= now:
        _expire(order, offer)
        commit_and_relay()
        raise AppError(
            "The offer has expired.",
            status=409,
            code="offer_expired",
            message_zh="派单已超时",
            details={"current_status": order.status},
        )
    offer.status, offer.responded_at = OfferStatus.ACCEPTED, now
    apply(order, "accept", actor, engineer_id=engineer_id)
    commit_and_relay()
    return order


def decline(order_id: int, engineer_id: int, reason: str | None) -> ServiceOrder:
    """The offered engineer passes; the order goes to the next candidate."""
    order = lock_order(order_id)
    actor = Actor("engineer", engineer_id)
    check(order, "decline", actor)
    offer = _pending_offer(order, engineer_id)
    offer.status, offer.responded_at = OfferStatus.DECLINED, utcnow()
    apply(order, "decline", actor, reason)
    commit_and_relay()
    return order


def _expire(order: ServiceOrder, offer: DispatchOffer) -> None:
    offer.status, offer.responded_at = OfferStatus.EXPIRED, utcnow()
    apply(order, "expire", SYSTEM, f"offer to engineer {offer.engineer_id} expired")


def expire_offer(offer_id: int) -> bool:
    """Expire an offer whose time is up and pass the order on; False if it was settled already."""
    offer = db.session.get(DispatchOffer, offer_id)
    if offer is None:
        return False
    order = lock_order(offer.order_id)
    db.session.refresh(offer)
    if offer.status != OfferStatus.PENDING or order.status != OrderStatus.OFFERED:
        db.session.rollback()
        return False
    if offer.expires_at > utcnow():
        # Delivered early (clock skew, a manual run): leave it to the scheduled run.
        db.session.rollback()
        return False
    _expire(order, offer)
    commit_and_relay()
    return True


def expire_early(order_id: int, why: str) -> bool:
    """Expire the order's unanswered offer now, before its time, and pass the order on (the
    SLA check does this when acceptance is at risk); False if no offer is pending."""
    order = lock_order(order_id)
    offer = db.session.scalars(
        sa.select(DispatchOffer).where(
            DispatchOffer.order_id == order.id, DispatchOffer.status == OfferStatus.PENDING
        )
    ).first()
    if offer is None or order.status != OrderStatus.OFFERED:
        db.session.rollback()
        return False
    offer.status, offer.responded_at = OfferStatus.EXPIRED, utcnow()
    apply(order, "expire", SYSTEM, f"{why} (engineer {offer.engineer_id})")
    commit_and_relay()
    return True


def assign_by_hand(
    order_id: int, engineer_id: int, actor: Actor, reason: str | None
) -> ServiceOrder:
    """A manager gives a waiting or unassigned order to an engineer serving its community."""
    order = lock_order(order_id)
    check(order, "assign", actor, reason, engineer_id=engineer_id)
    serves = db.session.scalar(
        sa.select(
            sa.exists().where(
                EngineerCommunity.engineer_id == engineer_id,
                EngineerCommunity.community_id == order.community_id,
            )
        )
    )
    if not serves:
        raise AppError(
            "That engineer does not serve this community.",
            status=422,
            code="not_serving_community",
            fields={"engineer_id": ["does not serve the order's community"]},
        )
    breakdown = {**(order.dispatch_breakdown or {}), "assigned_by_hand": True}
    apply(
        order,
        "assign",
        actor,
        reason or "assigned by a manager",
        engineer_id=engineer_id,
        unassigned_reason=None,
        dispatch_breakdown={**breakdown, "engineer_id": engineer_id},
    )
    commit_and_relay()
    return order


def redispatch(order_id: int, actor: Actor, reason: str | None) -> ServiceOrder:
    """A manager sends an unassigned order through dispatch again (engineers who already had
    it are still left out: nobody is offered the same order twice)."""
    order = apply(order_id, "redispatch", actor, reason, unassigned_reason=None)
    commit_and_relay()
    return order


def sweep(grace: timedelta = timedelta(seconds=30), limit: int = 500) -> dict[str, int]:
    """Expire offers whose scheduled expiry job was lost (Redis restarted, a worker died).

    Runs periodically; each offer goes through the same locked expiry as the job would.
    """
    overdue = db.session.scalars(
        sa.select(DispatchOffer.id)
        .where(
            DispatchOffer.status == OfferStatus.PENDING, DispatchOffer.expires_at < utcnow() - grace
        )
        .order_by(DispatchOffer.expires_at)
        .limit(limit)
    ).all()
    db.session.rollback()
    expired = sum(1 for offer_id in overdue if expire_offer(offer_id))
    return {"expired_offers": expired}

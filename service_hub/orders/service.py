"""Order rules: who may create and see an order; its actions are taken through the order
lifecycle (models/order_lifecycle.py), and the consequences that belong here are its hooks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from dispatch import assignment
from dispatch.standing import request_recompute
from models import (
    Community,
    DispatchOffer,
    Engineer,
    Resident,
    ServiceOrder,
    ServiceType,
    Visit,
    VisitStatus,
)
from models import order_lifecycle as lifecycle
from models.order_lifecycle import Actor
from service_hub.addresses.service import order_snapshot
from service_hub.auth.regions import covers, require_region
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community, is_bound
from service_hub.completion.checklists import completion_facts
from service_hub.coupons.redemption import release_for_order, reserve_for_order, spend_for_order
from service_hub.plumbing.errors import Forbidden, InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.idempotency import require_same_request
from service_hub.plumbing.outbox import commit_and_relay, record
from service_hub.points.ledger import award_for_completed_order
from service_hub.reviews.follow_ups import open_follow_up
from service_hub.sla.second_visits import open_second_visit
from service_hub.uploads.storage import validate_photo_urls
from service_hub.visits.service import release_booking

# The order's life (actions, who may, from which states, what follows) is one table:
# models/order_lifecycle.py. These are the actions POST /orders/<id>/<action> takes.
ORDER_ACTIONS = lifecycle.ROUTE_ACTIONS


def actor_of(principal: Principal) -> Actor:
    """The timeline actor for a caller (engineers are recorded by engineer id)."""
    if principal.role == "engineer":
        return Actor("engineer", principal.engineer_id, principal)
    return Actor(principal.role, principal.id, principal)


def order_origin(
    principal: Principal, resident_id: int | None, source: str | None, community_id: int
) -> tuple[int, str]:
    """Whose order this is and where it came from: a resident's own from the mini-program,
    or one a manager records for a resident (by phone, or proactively)."""
    if principal.role == "resident":
        if resident_id is not None or source is not None:
            raise InvalidInput(
                "resident_id and source are for staff.",
                fields={"resident_id": ["staff only"], "source": ["staff only"]},
            )
        return principal.id, "mini_program"
    if resident_id is None:
        raise InvalidInput(
            "Say which resident the order is for.", fields={"resident_id": ["required for staff"]}
        )
    if db.session.get(Resident, resident_id) is None:
        raise InvalidInput("Unknown resident.", fields={"resident_id": ["unknown"]})
    require_region(principal, community_id)
    return resident_id, source or "phone"


def create_order(
    resident_id: int,
    community_id: int,
    service_type_id: int,
    *,
    description: str = "",
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    preferred_engineer_id: int | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str | None = None,
    source: str = "mini_program",
    photos: list[str] = (),
    coupon_id: int | None = None,
    address_id: int | None = None,
) -> tuple[ServiceOrder, bool]:
    """Create an order and queue its dispatch; a repeated Idempotency-Key returns the first
    order when `request_fingerprint` matches the first request's, and is refused (422
    idempotency_key_reused) when it does not. A chosen coupon is checked and reserved with it.
    The order copies the resident's address and contact (addresses.service.order_snapshot)."""
    if idempotency_key:
        existing = _by_idempotency_key(resident_id, idempotency_key)
        if existing:
            require_same_request(existing.idempotency_fingerprint, request_fingerprint)
            return existing, False
    community = get_community(community_id)
    if not is_bound(resident_id, community_id):
        raise Forbidden(
            "Bind the community before requesting a service there.",
            code="not_bound",
            message_zh="请先绑定该小区",
        )
    service_type = db.session.get(ServiceType, service_type_id)
    if service_type is None or not service_type.active:
        raise InvalidInput("Unknown service type.", fields={"service_type_id": ["unknown"]})
    if (
        preferred_engineer_id is not None
        and db.session.get(Engineer, preferred_engineer_id) is None
    ):
        raise InvalidInput("Unknown engineer.", fields={"preferred_engineer_id": ["unknown"]})
    if window_start and window_end and window_end <= window_start:
        raise InvalidInput(
            "The window ends before it starts.",
            fields={"window_end": ["must be after window_start"]},
        )
    photos = validate_photo_urls(list(photos))
    snapshot = order_snapshot(resident_id, community, address_id)
    order = ServiceOrder(
        **snapshot,
        photos=photos,
        resident_id=resident_id,
        community_id=community_id,
        service_type_id=service_type_id,
        description=description,
        window_start=window_start,
        window_end=window_end,
        preferred_engineer_id=preferred_engineer_id,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=request_fingerprint if idempotency_key else None,
        source=source,
    )
    try:
        lifecycle.create(order, Actor("resident", resident_id))
    except IntegrityError:
        # The same Idempotency-Key raced with itself: answer with the order that won.
        db.session.rollback()
        existing = _by_idempotency_key(resident_id, idempotency_key)
        if existing is None:
            raise
        require_same_request(existing.idempotency_fingerprint, request_fingerprint)
        return existing, False
    if coupon_id is not None:  # coupons: owner, services, threshold, validity; then reserved
        reserve_for_order(coupon_id, order, service_type)
    commit_and_relay()
    return order, True


def _by_idempotency_key(resident_id: int, key: str) -> ServiceOrder | None:
    return db.session.scalar(
        sa.select(ServiceOrder).where(
            ServiceOrder.resident_id == resident_id, ServiceOrder.idempotency_key == key
        )
    )


def can_see(principal: Principal, order: ServiceOrder) -> bool:
    """Owner, the assigned or offered engineer, a manager for its region, an admin."""
    if principal.role == "resident":
        return order.resident_id == principal.id
    if principal.role == "engineer":
        if order.engineer_id == principal.engineer_id:
            return True
        return db.session.scalar(
            sa.select(
                sa.exists().where(
                    DispatchOffer.order_id == order.id,
                    DispatchOffer.engineer_id == principal.engineer_id,
                )
            )
        )
    return covers(principal, db.session.get(Community, order.community_id))


def get_order_for(principal: Principal, order_id: int) -> ServiceOrder:
    """The order if the caller may see it; 404 otherwise (not telling it exists)."""
    order = db.session.get(ServiceOrder, order_id)
    if order is None or not can_see(principal, order):
        raise NotFound(f"No order {order_id}.", code="order_not_found", message_zh="工单不存在")
    return order


def my_orders_query(principal: Principal, statuses: Iterable[str] = ()) -> sa.Select:
    """A resident's own orders, or an engineer's assigned ones, newest first; only those in
    one of `statuses` when any are given."""
    stmt = sa.select(ServiceOrder).order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
    if statuses:
        stmt = stmt.where(ServiceOrder.status.in_(list(statuses)))
    if principal.role == "engineer":
        return stmt.where(ServiceOrder.engineer_id == principal.engineer_id)
    return stmt.where(ServiceOrder.resident_id == principal.id)


def perform(
    principal: Principal,
    order_id: int,
    action: str,
    reason: str | None = None,
    expected_version: int | None = None,
    engineer_id: int | None = None,
    photos: list[str] = (),
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    answers: dict | None = None,
    note: str | None = None,
    signature_url: str | None = None,
) -> ServiceOrder:
    """Apply an order action for the caller: the lifecycle checks version, role, party and
    state under the row lock; offers and assignment go through dispatch, which applies it.
    `photos` are the finished work's with complete (completion_photos), the resident's with
    dispute (dispute_photos). complete also records the checklist (`answers`, else those
    saved before; every required item answered) and the `note`; confirm the resident's
    `signature_url` (an upload). A window goes to the actions that take one (reschedule,
    propose-window); a second visit is a new order (returned) with it."""
    facts = _evidence_facts(action, photos, answers, note, signature_url)
    window = {"window_start": window_start, "window_end": window_end}
    if lifecycle.ACTIONS[action].facts >= lifecycle.WINDOW:
        facts.update(window)
    get_order_for(principal, order_id)
    actor = actor_of(principal)
    order = lifecycle.lock_order(order_id)
    lifecycle.check(
        order,
        action,
        actor,
        reason,
        expected_version=expected_version,
        engineer_id=engineer_id,
        **window,
    )
    if action == "accept":
        return assignment.accept(order_id, actor.id)
    if action == "decline":
        return assignment.decline(order_id, actor.id, reason)
    if action == "assign":
        return assignment.assign_by_hand(order_id, engineer_id, actor, reason)
    if action == "redispatch":
        return assignment.redispatch(order_id, actor, reason)
    if action == "second-visit":
        return open_second_visit(order_id, actor, reason, window_start, window_end)
    if action == "complete":
        facts.update(completion_facts(order, answers, note))
    lifecycle.apply(order, action, actor, reason, **facts)
    commit_and_relay()
    return order


# Which action takes each piece of evidence, and the order column photos land in.
PHOTOS_KEPT_AS = {"complete": "completion_photos", "dispute": "dispute_photos"}
EVIDENCE_FOR = {"answers": "complete", "note": "complete", "signature_url": "confirm"}
EVIDENCE_ZH = {
    "photos": "只有完成服务或提出验收异议时可以上传照片",
    "answers": "只有完成服务时可以填写检查单",
    "note": "只有完成服务时可以填写完工说明",
    "signature_url": "只有确认验收时可以签名",
}


def _evidence_facts(
    action: str,
    photos: list[str],
    answers: dict | None,
    note: str | None,
    signature_url: str | None,
) -> dict:
    """Photos (complete, dispute) and a signature (confirm), proven to be our uploads; the
    checklist and note only with complete (checked against the order later). Evidence
    given with another action is a 422, not silently dropped."""
    given = {"answers": answers, "note": note, "signature_url": signature_url}
    for name, value in given.items():
        if value is not None and EVIDENCE_FOR[name] != action:
            _wrong_action(name)
    facts = {}
    if photos:
        if action not in PHOTOS_KEPT_AS:
            _wrong_action("photos")
        facts[PHOTOS_KEPT_AS[action]] = validate_photo_urls(list(photos))
    if signature_url is not None:
        (facts["signature_url"],) = validate_photo_urls(
            [signature_url], max_count=1, field="signature_url"
        )
    return facts


def _wrong_action(name: str) -> None:
    raise InvalidInput(
        f"{name} does not go with this action.",
        message_zh=EVIDENCE_ZH[name],
        fields={name: ["not for this action"]},
    )


def on_cancelled(order: ServiceOrder) -> None:
    """A cancelled order's visit is off, a slot it booked is free, its coupon is released."""
    cancelled = db.session.execute(
        sa.update(Visit)
        .where(Visit.order_id == order.id, Visit.status != VisitStatus.CANCELLED)
        .values(status=VisitStatus.CANCELLED)
    ).rowcount
    if cancelled:  # the community's cached home lists upcoming visits (home_cache.py)
        record(
            "community_home_changed",
            f"visit-off:order:{order.id}",
            {"community_id": order.community_id},
        )
    release_booking(order)
    release_for_order(order.id)  # coupons: a reserved coupon is available again


def on_accepted(order: ServiceOrder) -> None:
    """The resident (or the system, after ACCEPTANCE_AUTO_HOURS) accepted the work: only now
    does it count as done. The coupon is spent, the engineer's standing recomputed (it
    counts accepted orders), the engineer's and the butler's points earned. Once per order:
    the lifecycle accepts work once (confirm and auto-confirm start only from pending, or
    disputed for confirm), and each consequence is keyed or conditional besides."""
    spend_for_order(order.id)
    request_recompute(order.engineer_id, [order.community_id])
    award_for_completed_order(order)


def on_complained(order: ServiceOrder) -> None:
    """A complaint opens a follow-up and weighs on the engineer's standing."""
    open_follow_up("complaint", order, order.complaint)
    request_recompute(order.engineer_id, [order.community_id])


def manages_region(actor: Actor, order: ServiceOrder) -> bool:
    """Whether the caller behind a manager's action covers the order's community."""
    if actor.principal is None:
        return False
    return covers(actor.principal, db.session.get(Community, order.community_id))

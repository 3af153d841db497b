"""The completion steps beside the order actions: the engineer's checklist form (read, and saved
while in service), what a dispute sets off, and the periodic auto-confirmation of work that
nobody answered for in ACCEPTANCE_AUTO_HOURS.

The resident's answers themselves (confirm, dispute) and the system's (auto-confirm) are
order lifecycle actions (models/order_lifecycle.py); what accepted work earns (points,
standing, the coupon spent, the butler's reward) is `orders.service.on_accepted`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from models import Acceptance, OrderStatus, ServiceOrder
from models import order_lifecycle as lifecycle
from models.base import utcnow
from models.order import PENDING_ACCEPTANCE
from models.order_lifecycle import SYSTEM
from service_hub.auth.tokens import Principal
from service_hub.completion.checklists import items_of, resolve_answers, saved_answers
from service_hub.orders.service import actor_of, get_order_for
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay
from service_hub.plumbing.sql import retry_transient
from service_hub.reviews.follow_ups import open_follow_up

BATCH = 500  # orders auto-confirmed per run at most; a backlog drains over the next runs


def checklist_form(order: ServiceOrder) -> dict:
    """The order's checklist as a form: before completion the service type's items now, with
    the answers saved so far; after it, the items and answers as they were completed."""
    if order.status == OrderStatus.COMPLETED:
        items = [dict(entry) for entry in order.checklist_answers or []]
    else:
        saved = saved_answers(order)
        items = [
            {
                "key": item.key,
                "label": item.label,
                "kind": item.kind,
                "unit": item.unit,
                "min_value": item.min_value,
                "max_value": item.max_value,
                "required": item.required,
                "value": saved.get(item.key),
            }
            for item in items_of(order.service_type_id)
        ]
    return {
        "order_id": order.id,
        "service_type_id": order.service_type_id,
        "version": order.version,
        "items": items,
        "note": order.completion_note,
        "missing": [i["key"] for i in items if i["required"] and i["value"] is None],
    }


def order_checklist(principal: Principal, order_id: int) -> dict:
    """The order's checklist form, for anyone who sees the order."""
    return checklist_form(get_order_for(principal, order_id))


def save_checklist(
    principal: Principal,
    order_id: int,
    answers: dict,
    note: str | None,
    expected_version: int | None = None,
) -> dict:
    """Save the engineer's answers (replacing those saved before) and note, checked against
    the checklist but with nothing required yet; only who may complete the order now may
    (the lifecycle's rule for `complete`: its engineer, or an admin, while in service)."""
    get_order_for(principal, order_id)
    order = lifecycle.lock_order(order_id)
    lifecycle.check(order, "complete", actor_of(principal), expected_version=expected_version)
    order.checklist_answers = resolve_answers(order.service_type_id, answers, complete=False)
    if note is not None:
        order.completion_note = note.strip() or None
    db.session.commit()
    return checklist_form(order)


def on_disputed(order: ServiceOrder) -> None:
    """A dispute opens a follow-up for the region's managers (once per order)."""
    open_follow_up("dispute", order, order.dispute_reason or "")


def confirm_overdue(now: datetime | None = None) -> int:
    """Job: confirm the work of orders completed ACCEPTANCE_AUTO_HOURS ago or more whose
    resident has not answered (at most BATCH per run, oldest first), each in its own
    transaction through the lifecycle's `auto-confirm`. Returns how many it confirmed; a
    second run finds nothing (the partial index holds only orders still pending)."""
    hours = current_app.config["ACCEPTANCE_AUTO_HOURS"]
    due = (now or utcnow()) - timedelta(hours=hours)
    order_ids = db.session.scalars(
        sa.select(ServiceOrder.id)
        .where(PENDING_ACCEPTANCE, ServiceOrder.completed_at <= due)
        .order_by(ServiceOrder.completed_at)
        .limit(BATCH)
    ).all()
    db.session.rollback()
    return sum(_auto_confirm(order_id, due) for order_id in order_ids)


@retry_transient
def _auto_confirm(order_id: int, due: datetime) -> int:
    order = lifecycle.lock_order(order_id)
    # Re-read under the lock: the resident may have answered since the list was read.
    if order.acceptance != Acceptance.PENDING or order.completed_at > due:
        db.session.rollback()
        return 0
    lifecycle.apply(order, "auto-confirm", SYSTEM)
    commit_and_relay()
    return 1

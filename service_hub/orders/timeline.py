"""An order's timeline: the events `models/order_lifecycle.py` writes at every step, as each
reader may see them (docs/privacy.md, "Who sees what of an order")."""

from __future__ import annotations

import sqlalchemy as sa

from models import OrderEvent
from service_hub.auth.tokens import Principal
from service_hub.orders.texts import event_text
from service_hub.plumbing.extensions import db

STAFF = ("manager", "admin")


def timeline(order_id: int) -> list[OrderEvent]:
    """The order's events, oldest first."""
    return db.session.scalars(
        sa.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()


def timeline_for(principal: Principal, order_id: int) -> list[dict]:
    """The order's events as `principal` reads them, oldest first, each with its Chinese
    `label` and, for the system's steps, `reason_zh`."""
    seen = (event_as_seen(principal, event) for event in timeline(order_id))
    return [event for event in seen if event is not None]


def event_as_seen(principal: Principal, event: OrderEvent) -> dict | None:
    """One event for one reader, or None when it is not theirs to see.

    Managers and admins see every event as recorded. The system's own reasons (English, and
    naming engineers: "offered to engineer 3") are theirs only; others read `reason_zh`. An
    engineer does not see another engineer's steps (their declines and why). A resident sees
    neither dispatch's offers, expiries and declines nor the reasons staff note for
    themselves, nor who on the staff acted (`actor_id`).
    """
    text = event_text(event.action)
    role = principal.role
    system = event.actor_kind == "system"
    if role == "resident" and not text.resident:
        return None
    if (
        role == "engineer"
        and event.actor_kind == "engineer"
        and event.actor_id != principal.engineer_id
    ):
        return None
    reason = event.reason
    if system and role not in STAFF:
        reason = None
    actor_id = event.actor_id
    if role == "resident":
        if not text.resident_reason:
            reason = None
        if event.actor_kind != "resident":
            actor_id = None
    return {
        "action": event.action,
        "label": text.label,
        "actor_kind": event.actor_kind,
        "actor_id": actor_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": reason,
        "reason_zh": text.system_zh if system else None,
        "at": event.at,
    }

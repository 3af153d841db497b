"""Moving an order between states, always leaving a timeline entry and counting it in KPIs."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from models import OrderEvent, ServiceOrder
from models.base import utcnow
from service_hub.errors import AppError, NotFound
from service_hub.extensions import db
from service_hub.kpis.rollup import count_event


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a role and an id, or the system itself."""

    kind: str  # resident, engineer, manager, admin, system
    id: int | None = None


SYSTEM = Actor("system")


def record_event(
    order: ServiceOrder,
    action: str,
    actor: Actor,
    from_status: str | None,
    reason: str | None = None,
) -> OrderEvent:
    """Append a timeline entry for the order's current status and count it."""
    event = OrderEvent(
        order_id=order.id,
        community_id=order.community_id,
        action=action,
        actor_kind=actor.kind,
        actor_id=actor.id,
        from_status=from_status,
        to_status=order.status,
        reason=reason,
        at=utcnow(),
    )
    db.session.add(event)
    count_event(event, order)
    return event


def move(
    order: ServiceOrder, to_status: str, action: str, actor: Actor, reason: str | None = None
) -> OrderEvent:
    """Set the order's status and record the step."""
    from_status = order.status
    order.status = to_status
    return record_event(order, action, actor, from_status, reason)


def lock_order(order_id: int) -> ServiceOrder:
    """Load an order with a row lock held to the end of the transaction (PostgreSQL)."""
    order = db.session.scalars(
        sa.select(ServiceOrder)
        .where(ServiceOrder.id == order_id)
        .with_for_update()
        # Re-read under the lock: an earlier plain read may have cached a stale state.
        .execution_options(populate_existing=True)
    ).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found", message_zh="工单不存在")
    return order


def illegal_transition(order: ServiceOrder, action: str) -> AppError:
    """The 409 for an action the order's current state does not allow."""
    return AppError(
        f"Cannot {action} an order that is {order.status}.",
        status=409,
        code="illegal_transition",
        message_zh="当前工单状态不允许此操作",
        details={"current_status": order.status, "action": action},
    )


def timeline(order_id: int) -> list[OrderEvent]:
    """The order's events, oldest first."""
    return db.session.scalars(
        sa.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()

"""RQ job entry points for dispatch: thin adapters over dispatch.assignment."""

from __future__ import annotations

from dispatch import assignment
from models import OutboxMessage
from service_hub.plumbing.observability import OFFERS_EXPIRED


def dispatch_order(order_id: int) -> int | None:
    """Job: offer the order to the best eligible engineer."""
    return assignment.dispatch(order_id)


def expire_offer(offer_id: int) -> bool:
    """Job (scheduled): expire an unanswered offer and pass the order on."""
    expired = assignment.expire_offer(offer_id)
    if expired:
        OFFERS_EXPIRED.inc()
    return expired


def handle_dispatch_message(message: OutboxMessage) -> None:
    """Outbox handler for "order_dispatch"."""
    assignment.dispatch(message.payload["order_id"])

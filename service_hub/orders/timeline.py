"""An order's timeline: the events `models/order_lifecycle.py` writes at every step."""

from __future__ import annotations

import sqlalchemy as sa

from models import OrderEvent
from service_hub.plumbing.extensions import db


def timeline(order_id: int) -> list[OrderEvent]:
    """The order's events, oldest first."""
    return db.session.scalars(
        sa.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()

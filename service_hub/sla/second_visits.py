"""Second visits (二次上门): a return to a completed order, as a new order linked to it.

The first order's engineer (or a manager of its region, or an admin) asks with a reason; the
first order's timeline records `second_visit`, which the KPIs count as a repeat visit of its
community and engineer (first-time fix rate = 1 - repeat_visits / orders_completed). The new
order has the same resident, community, service and address snapshot, and goes straight to
the same engineer if they still serve the community (`revisit`), else through dispatch.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from models import EngineerCommunity, ServiceOrder
from models import order_lifecycle as lifecycle
from models.order_lifecycle import SYSTEM, Actor
from service_hub.plumbing.extensions import db
from service_hub.plumbing.outbox import commit_and_relay

# What the new order copies from the first.
COPIED = (
    "resident_id",
    "community_id",
    "service_type_id",
    "address_id",
    "address_text",
    "contact_name",
    "contact_mobile",
)


def _still_serves(engineer_id: int, community_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    EngineerCommunity.engineer_id == engineer_id,
                    EngineerCommunity.community_id == community_id,
                )
            )
        )
    )


def open_second_visit(
    order_id: int,
    actor: Actor,
    reason: str | None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> ServiceOrder:
    """Book a second visit to a completed order; returns the new order (committed)."""
    first = lifecycle.apply(order_id, "second-visit", actor, reason)
    engineer_id = first.engineer_id
    same_engineer = _still_serves(engineer_id, first.community_id)
    visit = ServiceOrder(
        **{column: getattr(first, column) for column in COPIED},
        parent_order_id=first.id,
        engineer_id=engineer_id if same_engineer else None,
        preferred_engineer_id=engineer_id,
        source="proactive",
        description=reason,
        window_start=window_start,
        window_end=window_end,
    )
    lifecycle.create(visit, SYSTEM)
    if same_engineer:
        lifecycle.apply(visit, "revisit", SYSTEM, reason)
    commit_and_relay()
    return visit

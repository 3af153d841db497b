"""Follow-ups: low ratings and complaints put in front of the managers of their region."""

from __future__ import annotations

import sqlalchemy as sa

from models import Community, FollowUp, FollowUpStatus, ServiceOrder
from models.base import utcnow
from service_hub.auth.regions import region_clause, require_region
from service_hub.auth.tokens import Principal
from service_hub.plumbing.errors import Conflict, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import insert_ignoring_duplicates


def open_follow_up(kind: str, order: ServiceOrder, summary: str) -> None:
    """Open a follow-up for the order (once per kind), in the caller's transaction."""
    insert_ignoring_duplicates(
        FollowUp,
        [
            {
                "kind": kind,
                "order_id": order.id,
                "community_id": order.community_id,
                "engineer_id": order.engineer_id,
                "summary": summary[:500],
                "status": FollowUpStatus.OPEN,
                "created_at": utcnow(),
            }
        ],
        ["kind", "order_id"],
    )


def follow_ups_query(principal: Principal, status: str | None) -> sa.Select:
    """Follow-ups in the caller's region, oldest open first."""
    stmt = (
        sa.select(FollowUp)
        .join(Community, Community.id == FollowUp.community_id)
        .where(region_clause(principal))
        .order_by(FollowUp.created_at, FollowUp.id)
    )
    return stmt.where(FollowUp.status == status) if status else stmt


def close(principal: Principal, follow_up_id: int, note: str) -> FollowUp:
    """A manager records what was done and closes the follow-up."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(f"No follow-up {follow_up_id}.", code="follow_up_not_found")
    require_region(principal, follow_up.community_id)
    if follow_up.status == FollowUpStatus.CLOSED:
        raise Conflict("This follow-up is closed already.", code="follow_up_closed")
    follow_up.status, follow_up.note = FollowUpStatus.CLOSED, note
    follow_up.closed_by, follow_up.closed_at = principal.id, utcnow()
    db.session.commit()
    return follow_up

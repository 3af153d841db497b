"""Follow-ups: low ratings and complaints put in front of the managers of their region, with
what a manager reads to act on one (the complaint, the review, the order) in one query."""

from __future__ import annotations

import sqlalchemy as sa

from models import (
    Community,
    Engineer,
    FollowUp,
    FollowUpStatus,
    Review,
    ServiceOrder,
    ServiceType,
)
from models.base import utcnow
from service_hub.auth.regions import region_clause, require_region
from service_hub.auth.tokens import Principal
from service_hub.plumbing.errors import Conflict, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import insert_ignoring_duplicates

# The order as a follow-up shows it: what, who, where, when (no address or phone).
ORDER_COLUMNS = (
    ServiceOrder.id,
    ServiceOrder.status,
    ServiceOrder.description,
    ServiceOrder.complaint,
    ServiceOrder.window_start,
    ServiceOrder.created_at,
    ServiceOrder.completed_at,
    ServiceOrder.engineer_id,
    ServiceType.name,
    Engineer.name,
)
ORDER_KEYS = (
    "id", "status", "description", "complaint", "window_start", "created_at", "completed_at",
    "engineer_id", "service_name", "engineer_name",
)  # fmt: skip
REVIEW_COLUMNS = (
    Review.id,
    Review.rating,
    Review.text,
    Review.photos,
    Review.status,
    Review.created_at,
)
REVIEW_KEYS = ("id", "rating", "text", "photos", "status", "created_at")


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


def follow_ups_query(
    principal: Principal,
    status: str | None,
    community_id: int | None = None,
    kind: str | None = None,
    newest_first: bool = False,
) -> sa.Select:
    """Follow-ups in the caller's region (and community, kind, status when given), oldest
    first (or newest), each row with its community's name, its order and the order's review."""
    stmt = (
        sa.select(FollowUp, Community.name, *ORDER_COLUMNS, *REVIEW_COLUMNS)
        .join(Community, Community.id == FollowUp.community_id)
        .join(ServiceOrder, ServiceOrder.id == FollowUp.order_id)
        .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
        .outerjoin(Engineer, Engineer.id == ServiceOrder.engineer_id)
        .outerjoin(Review, Review.order_id == FollowUp.order_id)
        .where(region_clause(principal))
        .order_by(
            *(
                (FollowUp.created_at.desc(), FollowUp.id.desc())
                if newest_first
                else (FollowUp.created_at, FollowUp.id)
            )
        )
    )
    if status:
        stmt = stmt.where(FollowUp.status == status)
    if community_id:
        stmt = stmt.where(FollowUp.community_id == community_id)
    if kind:
        stmt = stmt.where(FollowUp.kind == kind)
    return stmt


def follow_up_item(follow_up: FollowUp, community_name: str, *columns) -> dict:
    """One row of follow_ups_query as the API shows it."""
    order = dict(zip(ORDER_KEYS, columns[: len(ORDER_KEYS)], strict=True))
    review = dict(zip(REVIEW_KEYS, columns[len(ORDER_KEYS) :], strict=True))
    return {
        "id": follow_up.id,
        "kind": follow_up.kind,
        "order_id": follow_up.order_id,
        "community_id": follow_up.community_id,
        "community_name": community_name,
        "engineer_id": follow_up.engineer_id,
        "summary": follow_up.summary,
        "status": follow_up.status,
        "note": follow_up.note,
        "created_at": follow_up.created_at,
        "closed_at": follow_up.closed_at,
        "complaint": order.pop("complaint"),
        "review": review if review["id"] is not None else None,
        "order": order,
    }


def get_item(principal: Principal, follow_up_id: int) -> dict:
    """One follow-up of the caller's region, as the list shows it."""
    row = db.session.execute(
        follow_ups_query(principal, None).where(FollowUp.id == follow_up_id)
    ).first()
    if row is None:
        raise NotFound(f"No follow-up {follow_up_id}.", code="follow_up_not_found")
    return follow_up_item(*row)


def close(principal: Principal, follow_up_id: int, note: str) -> dict:
    """A manager records what was done and closes the follow-up; of two managers closing it
    at once, one wins and the other hears 409 (the UPDATE is conditional on `open`)."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(f"No follow-up {follow_up_id}.", code="follow_up_not_found")
    require_region(principal, follow_up.community_id)
    closed = db.session.execute(
        sa.update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.status == FollowUpStatus.OPEN)
        .values(status=FollowUpStatus.CLOSED, note=note, closed_by=principal.id, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        db.session.rollback()
        raise Conflict(
            "This follow-up is closed already.",
            code="follow_up_closed",
            message_zh="该跟进已关闭",
        )
    db.session.commit()
    db.session.expire_all()
    return get_item(principal, follow_up_id)

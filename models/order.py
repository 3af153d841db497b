"""Service orders, their timeline, and the offers dispatch makes to engineers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class OrderStatus(StrEnum):
    """Where a service order is in its life."""

    CREATED = "created"
    DISPATCHING = "dispatching"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    UNASSIGNED = "unassigned"


OPEN_STATUSES = (
    OrderStatus.ACCEPTED,
    OrderStatus.EN_ROUTE,
    OrderStatus.IN_SERVICE,
)

ORDER_SOURCES = ("mini_program", "visit_booking", "phone", "proactive")

# Orders not yet completed or cancelled, as the condition of their partial index (the
# managers' order console reads them; a state added to OrderStatus belongs here unless final).
UNFINISHED_STATUSES = (
    "created",
    "dispatching",
    "offered",
    "unassigned",
    "accepted",
    "en_route",
    "in_service",
)
UNFINISHED = sa.text("status IN (" + ", ".join(f"'{s}'" for s in UNFINISHED_STATUSES) + ")")


class SlaState(StrEnum):
    """Whether an order keeps its promises (service type's SLA targets)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


class SlaStep(StrEnum):
    """A step of an order with a deadline from its service type's targets."""

    ACCEPT = "accept"  # an engineer accepts (accept_due_at)
    ARRIVE = "arrive"  # the engineer is at the door, i.e. starts (arrive_due_at)
    COMPLETE = "complete"  # the work is done (complete_due_at)


# The step of its promise (SLA) an order is at, by status, and the deadline that step has:
# an engineer to accept it, the engineer to arrive (start), the work to be done.
SLA_STEP_STATUSES = {
    SlaStep.ACCEPT: (
        OrderStatus.CREATED,
        OrderStatus.DISPATCHING,
        OrderStatus.OFFERED,
        OrderStatus.UNASSIGNED,
    ),
    SlaStep.ARRIVE: (OrderStatus.ACCEPTED, OrderStatus.EN_ROUTE),
    SlaStep.COMPLETE: (OrderStatus.IN_SERVICE,),
}


def in_sla_step(step: str) -> sa.TextClause:
    """`status IN (…)` of a step, as literal SQL: the condition of the step's partial deadline
    index, which the periodic SLA check repeats word for word so the planner uses it."""
    return sa.text(
        "status IN (" + ", ".join(f"'{status}'" for status in SLA_STEP_STATUSES[step]) + ")"
    )


def _deadline_index(step: str) -> sa.Index:
    """Only orders at the step are indexed by its deadline: a few thousand open orders, not
    the millions that are done."""
    return sa.Index(
        f"ix_service_order_{step}_due",
        f"{step}_due_at",
        postgresql_where=in_sla_step(step),
        sqlite_where=in_sla_step(step),
    )


class Acceptance(StrEnum):
    """The resident's answer to completed work (验收); None before the order is completed."""

    PENDING = "pending"  # completed, waiting for the resident
    CONFIRMED = "confirmed"  # the resident (or an admin for them) accepted the work
    AUTO_CONFIRMED = "auto_confirmed"  # nobody answered within ACCEPTANCE_AUTO_HOURS
    DISPUTED = "disputed"  # the resident disputes it: a follow-up is open


# Accepted work is what counts as done: points, standing, the coupon spent, the butler's reward.
ACCEPTED_WORK = (Acceptance.CONFIRMED, Acceptance.AUTO_CONFIRMED)
PENDING_ACCEPTANCE = sa.text("acceptance = 'pending'")


class OfferStatus(StrEnum):
    """Where a dispatch offer to one engineer is."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ReviewStatus(StrEnum):
    """Whether a review is shown: moderation holds it, a manager may hide it."""

    VISIBLE = "visible"
    HELD = "held"
    HIDDEN = "hidden"


class ServiceOrder(db.Model):
    """A resident's request for a service in one of their communities."""

    __tablename__ = "service_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_type.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    preferred_engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineer.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default=OrderStatus.CREATED, index=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="mini_program")
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))
    # sha256 of the request that carried the key (service_hub/plumbing/idempotency.py): a
    # repeat of the key with another request is refused. None for orders from before it was kept.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    # Why the current engineer was chosen (or why nobody was): shown to anyone who asks.
    dispatch_breakdown: Mapped[dict | None] = mapped_column(sa.JSON)
    unassigned_reason: Mapped[str | None] = mapped_column(sa.String(200))
    complaint: Mapped[str | None] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the engineer arrived (start: en_route -> in_service).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The engineer's photos of the finished work (the complete action's `photos`).
    completion_photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The service type's checklist as the engineer filled it: [{key, label, kind, unit,
    # required, value}], each item's label as it was then; and the engineer's note.
    checklist_answers: Mapped[list] = mapped_column(sa.JSON, default=list)
    completion_note: Mapped[str | None] = mapped_column(sa.String(500))
    # The resident's acceptance (验收) of completed work (Acceptance; None before completion),
    # when it was accepted (by the resident or the system), their signature (an upload), or
    # their dispute with its reason and photos.
    acceptance: Mapped[str | None] = mapped_column(sa.String(16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signature_url: Mapped[str | None] = mapped_column(sa.String(300))
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispute_reason: Mapped[str | None] = mapped_column(sa.String(300))
    dispute_photos: Mapped[list] = mapped_column(sa.JSON, default=list)

    # Where and who: a snapshot of the resident's address book entry at creation (so an
    # address edited or deleted later never rewrites the order). contact_mobile is shown in
    # full only to the assigned engineer while the order is open (docs/privacy.md).
    address_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("resident_address.id", ondelete="SET NULL")
    )
    address_text: Mapped[str | None] = mapped_column(sa.String(300))
    contact_name: Mapped[str | None] = mapped_column(sa.String(32))
    contact_mobile: Mapped[str | None] = mapped_column(sa.String(11))

    # Promises kept (SLA): deadlines from the service type's targets, and the state the
    # periodic SLA job keeps current (on_track, at_risk, breached).
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrive_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    complete_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_state: Mapped[str] = mapped_column(sa.String(16), default=SlaState.ON_TRACK)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The resident's urges (催单) and window changes; the engineer's proposed window.
    urge_count: Mapped[int] = mapped_column(default=0)
    last_urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reschedule_count: Mapped[int] = mapped_column(default=0)
    proposed_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposed_window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A second visit (二次上门) points at the order it returns to.
    parent_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_order.id"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("resident_id", "idempotency_key"),
        sa.Index("ix_service_order_community_created", "community_id", "created_at"),
        # The managers' order console: by status, oldest or newest first.
        sa.Index("ix_service_order_status_created", "status", "created_at"),
        # Its unfiltered list (全部) and created ranges; and its queues over several states
        # (已超时, 被催单: unfinished orders only, a few thousand however long the history).
        sa.Index("ix_service_order_created", "created_at"),
        sa.Index(
            "ix_service_order_unfinished_created",
            "created_at",
            postgresql_where=UNFINISHED,
            sqlite_where=UNFINISHED,
        ),
        sa.Index("ix_service_order_parent", "parent_order_id"),
        # The periodic auto-confirmation reads only orders waiting for their resident.
        sa.Index(
            "ix_service_order_acceptance_pending",
            "completed_at",
            postgresql_where=PENDING_ACCEPTANCE,
            sqlite_where=PENDING_ACCEPTANCE,
        ),
        *(_deadline_index(step) for step in SLA_STEP_STATUSES),
    )


class OrderEvent(db.Model):
    """One step of an order's timeline: who moved it, when, from what to what, and why."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"))
    # What happened (create, offer, accept, complete, complain …); KPIs are rebuilt from these.
    action: Mapped[str] = mapped_column(sa.String(16))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None]
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_order_event_community_at", "community_id", "at"),)


class DispatchOffer(db.Model):
    """An order offered to one engineer; never twice to the same engineer."""

    __tablename__ = "dispatch_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"), index=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=OfferStatus.PENDING)
    # Why dispatch chose this engineer: the same breakdown as the order's dispatch_breakdown.
    dispatch_breakdown: Mapped[dict] = mapped_column(sa.JSON)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("order_id", "engineer_id"),)


class Review(db.Model):
    """A resident's rating of a completed order, one per order."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_order.id"), unique=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("resident.id"), index=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineer.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(sa.String(1000), default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    # visible, held (content check said "review"), hidden (by a manager, with a reason)
    status: Mapped[str] = mapped_column(sa.String(16), default=ReviewStatus.VISIBLE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(sa.String(500))
    replied_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # The staff review queue (GET /moderation/held) reads only held rows.
        sa.Index(
            "ix_review_held",
            "created_at",
            postgresql_where=sa.text(f"status = '{ReviewStatus.HELD}'"),
            sqlite_where=sa.text(f"status = '{ReviewStatus.HELD}'"),
        ),
    )

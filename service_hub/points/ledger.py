"""Points ledgers: one append-only line per earning event, the balance is their sum.

A line is keyed by (owner_kind, owner_id, source_event) and written with
INSERT … ON CONFLICT DO NOTHING, so an event delivered twice (a retried job, a repeated
completion) never credits twice. Lines are never updated or deleted; a correction would be a
new line with its own source event.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from models import PointsEntry, ServiceOrder
from models.base import utcnow
from service_hub.butler.service import active_binding
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import insert_ignoring_duplicates

OWNER_KINDS = ("engineer", "resident")
REASON_ORDER_COMPLETED = "order_completed"
REASON_BUTLER_ORDER = "butler_order"
_TEXT_LIMIT = 64  # reason and source_event columns


def award(owner_kind: str, owner_id: int, points: int, reason: str, source_event: str) -> bool:
    """Append one ledger line in the caller's transaction (the caller commits).

    Returns False, crediting nothing, when this owner was already credited for source_event.
    """
    if owner_kind not in OWNER_KINDS:
        raise ValueError(f"owner_kind must be one of {OWNER_KINDS}, not {owner_kind!r}")
    # Checked here so both backends refuse alike (SQLite would store an over-long string).
    for name, text in (("reason", reason), ("source_event", source_event)):
        if not text or len(text) > _TEXT_LIMIT:
            raise ValueError(f"{name} must be 1 to {_TEXT_LIMIT} characters, not {text!r}")
    row = {
        "owner_kind": owner_kind,
        "owner_id": owner_id,
        "points": points,
        "reason": reason,
        "source_event": source_event,
        "created_at": utcnow(),
    }
    return bool(
        insert_ignoring_duplicates(PointsEntry, [row], ["owner_kind", "owner_id", "source_event"])
    )


def balance(owner_kind: str, owner_id: int) -> int:
    """The owner's balance: the sum of their ledger lines (0 with none)."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.points), 0)).where(
            PointsEntry.owner_kind == owner_kind, PointsEntry.owner_id == owner_id
        )
    )


def history_query(owner_kind: str, owner_id: int) -> sa.Select:
    """The owner's ledger lines, newest first."""
    return (
        sa.select(PointsEntry)
        .where(PointsEntry.owner_kind == owner_kind, PointsEntry.owner_id == owner_id)
        .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
    )


def award_for_completed_order(order: ServiceOrder) -> None:
    """Credit an order whose work was accepted (the resident confirmed it, or the system did
    when they did not answer), inside that transaction (the caller commits). Completion
    alone earns nothing (docs/butler.md).

    - The serving engineer earns POINTS_ORDER_COMPLETED ("order:<id>:completed").
    - The resident's butler at acceptance earns POINTS_BUTLER_ORDER ("order:<id>:butler"),
      but only when that binding was made no later than the order: a butler earns on the
      resident's later orders, not on one already under way when the code was scanned.
    A butler who serves the order earns both. A zero amount in configuration awards nothing.
    """
    config = current_app.config
    completed_points = config["POINTS_ORDER_COMPLETED"]
    if order.engineer_id is not None and completed_points:
        award(
            "engineer",
            order.engineer_id,
            completed_points,
            REASON_ORDER_COMPLETED,
            f"order:{order.id}:completed",
        )
    butler_points = config["POINTS_BUTLER_ORDER"]
    binding = active_binding(order.resident_id)
    if binding is not None and butler_points and binding.created_at <= order.created_at:
        award(
            "engineer",
            binding.engineer_id,
            butler_points,
            REASON_BUTLER_ORDER,
            f"order:{order.id}:butler",
        )

"""What residents allow: subscription credits from WeChat prompts, and opt-outs per kind."""

from __future__ import annotations

import sqlalchemy as sa

from models import (
    Broadcast,
    Community,
    Delivery,
    NotificationOptOut,
    SubscriptionCredit,
    SubscriptionPrompt,
)
from models.base import utcnow
from notifications.templates import KINDS
from service_hub.plumbing.errors import InvalidInput, NotFound
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import insert_ignoring_duplicates

PROMPT_RESULTS = ("accept", "reject", "ban", "filter")


def _known_templates() -> dict[str, str]:
    """template id → kind, for the configured templates."""
    return {KINDS[name].template_id: name for name in KINDS}


def record_prompt(resident_id: int, results: dict[str, str]) -> dict[str, int]:
    """Store a wx.requestSubscribeMessage result; every accept is one send credit.
    Returns the credits now available per template id."""
    known = _known_templates()
    unknown = sorted(set(results) - set(known))
    if unknown:
        raise InvalidInput("Unknown template ids.", fields={"results": [f"unknown: {unknown}"]})
    now = utcnow()
    for template_id, result in results.items():
        db.session.add(
            SubscriptionPrompt(
                resident_id=resident_id, template_id=template_id, result=result, created_at=now
            )
        )
        if result == "accept":
            db.session.add(
                SubscriptionCredit(
                    resident_id=resident_id, template_id=template_id, accepted_at=now
                )
            )
    db.session.commit()
    return available_credits(resident_id)


def available_credits(resident_id: int) -> dict[str, int]:
    """Unspent credits per template id."""
    return dict(
        db.session.execute(
            sa.select(SubscriptionCredit.template_id, sa.func.count())
            .where(
                SubscriptionCredit.resident_id == resident_id, SubscriptionCredit.spent_at.is_(None)
            )
            .group_by(SubscriptionCredit.template_id)
        ).all()
    )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"No notification kind {kind!r}.", code="unknown_kind")


def opt_out(resident_id: int, kind: str) -> None:
    """Stop WeChat messages of this kind (the inbox keeps them); a repeat is harmless."""
    _check_kind(kind)
    insert_ignoring_duplicates(
        NotificationOptOut,
        [{"resident_id": resident_id, "kind": kind, "created_at": utcnow()}],
        ["resident_id", "kind"],
    )
    db.session.commit()


def opt_in(resident_id: int, kind: str) -> None:
    """Receive this kind again."""
    _check_kind(kind)
    db.session.execute(
        sa.delete(NotificationOptOut).where(
            NotificationOptOut.resident_id == resident_id, NotificationOptOut.kind == kind
        )
    )
    db.session.commit()


def opted_out_kinds(resident_id: int) -> list[str]:
    """The kinds the resident opted out of."""
    return sorted(
        db.session.scalars(
            sa.select(NotificationOptOut.kind).where(NotificationOptOut.resident_id == resident_id)
        )
    )


def broadcast_counts(broadcast_ids: list[int]) -> dict[int, dict[str, int]]:
    """Deliveries per status for each broadcast, in one query."""
    counts: dict[int, dict[str, int]] = {bid: {} for bid in broadcast_ids}
    for broadcast_id, status, n in db.session.execute(
        sa.select(Delivery.broadcast_id, Delivery.status, sa.func.count())
        .where(Delivery.broadcast_id.in_(broadcast_ids))
        .group_by(Delivery.broadcast_id, Delivery.status)
    ):
        counts[broadcast_id][status] = n
    return counts


def broadcasts_query(region_clause, community_id: int | None) -> sa.Select:
    """Broadcasts newest first, limited to a region (and a community when given)."""
    stmt = (
        sa.select(Broadcast)
        .join(Community, Community.id == Broadcast.community_id)
        .where(region_clause)
        .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
    )
    return stmt.where(Broadcast.community_id == community_id) if community_id else stmt

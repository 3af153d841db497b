"""The in-app inbox channel: always delivered, at most once per (resident, kind, event)."""

from __future__ import annotations

import sqlalchemy as sa

from models import InboxNotification, OutboxMessage
from models.base import utcnow
from notifications import wechat_channel
from notifications.templates import get_kind
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import insert_ignoring_duplicates


def deliver_to_inbox(resident_ids: list[int], kind: str, event_key: str, payload: dict) -> int:
    """Write the rendered message to each resident's inbox; repeats are ignored by the database."""
    title, body, page = get_kind(kind).render(payload)
    now = utcnow()
    rows = [
        {
            "resident_id": rid,
            "kind": kind,
            "event_key": event_key,
            "title": title,
            "body": body,
            "page": page,
            "created_at": now,
        }
        for rid in resident_ids
    ]
    return insert_ignoring_duplicates(InboxNotification, rows, ["resident_id", "kind", "event_key"])


def handle_resident_notice(message: OutboxMessage) -> None:
    """Outbox handler: one message to one resident, in the inbox and through WeChat."""
    payload = message.payload
    deliver_to_inbox([payload["resident_id"]], payload["kind"], message.event_key, payload)
    new = wechat_channel.plan([payload["resident_id"]], payload["kind"], message.event_key, payload)
    db.session.commit()
    wechat_channel.send(new)


def inbox_query(resident_id: int) -> sa.Select:
    """A resident's inbox, newest first."""
    return (
        sa.select(InboxNotification)
        .where(InboxNotification.resident_id == resident_id)
        .order_by(InboxNotification.created_at.desc(), InboxNotification.id.desc())
    )


def unread_count(resident_id: int) -> int:
    """How many inbox messages the resident has not read."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            InboxNotification.resident_id == resident_id, InboxNotification.read_at.is_(None)
        )
    )


def mark_read(resident_id: int, notification_ids: list[int] | None) -> int:
    """Mark some (or, with None, all) of a resident's messages read; returns how many changed."""
    stmt = sa.update(InboxNotification).where(
        InboxNotification.resident_id == resident_id, InboxNotification.read_at.is_(None)
    )
    if notification_ids is not None:
        stmt = stmt.where(InboxNotification.id.in_(notification_ids))
    changed = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    db.session.commit()
    return changed

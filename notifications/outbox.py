"""The transactional outbox: asynchronous work recorded in the same transaction as its cause.

Every consequence that runs later (dispatching an order, telling residents of a visit) is a
row here, committed with the event; a relay then enqueues it. A crash between commit and
enqueue loses nothing: `relay_stale` finds the row again. Handlers are idempotent, because a
row can be relayed more than once.
"""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import after_this_request, g, has_request_context

from models import OutboxMessage
from models.base import utcnow
from service_hub.extensions import db
from service_hub.jobqueue import job_queue

log = logging.getLogger(__name__)

# kind → (queue, "module:function" taking the OutboxMessage)
HANDLERS: dict[str, tuple[str, str]] = {
    "order.dispatch": ("dispatch", "dispatch.jobs:handle_dispatch_message"),
    "visit.announced": ("notifications", "notifications.fanout:handle_community_broadcast"),
    "resident.notify": ("notifications", "notifications.inbox:handle_resident_notice"),
    "standing.recompute": ("default", "dispatch.standing:handle_recompute_message"),
}

RELAY_GRACE = timedelta(seconds=30)
REDELIVER_AFTER = timedelta(minutes=10)


def record(kind: str, event_key: str, payload: dict) -> int:
    """Add an outbox row to the current transaction; relayed after commit_and_relay()."""
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    message = OutboxMessage(kind=kind, event_key=event_key, payload=payload)
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault("outbox_ids", []).append(message.id)
    return message.id


def commit_and_relay() -> None:
    """Commit the current transaction, then enqueue the outbox rows it wrote.

    Inside a request the enqueue waits until the response body is built, so the response
    shows the state this request committed, not whatever a fast worker made of it since.
    """
    ids = db.session.info.pop("outbox_ids", [])
    db.session.commit()
    if not ids:
        return
    if not has_request_context():
        relay(ids)
        return
    if "outbox_pending" not in g:
        g.outbox_pending = []

        @after_this_request
        def _relay_after_response(response):
            try:
                relay(g.pop("outbox_pending"))
            except Exception:
                # Committed rows are safe; relay_stale picks them up. The answer stands.
                log.exception("outbox relay after the response failed")
                db.session.rollback()
            return response

    g.outbox_pending.extend(ids)


def relay(ids: list[int]) -> int:
    """Claim the given unrelayed rows and enqueue a job for each; returns how many."""
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.relayed_at.is_(None))
        .values(relayed_at=utcnow())
        .returning(OutboxMessage.id, OutboxMessage.kind)
    ).all()
    db.session.commit()
    sent = 0
    for message_id, kind in claimed:
        queue_name = HANDLERS[kind][0]
        try:
            job_queue().enqueue(queue_name, process_message, message_id)
            sent += 1
        except Exception:
            # Redis is down: leave the row for relay_stale once it is back.
            log.exception("could not enqueue outbox message %s; will retry", message_id)
            db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(relayed_at=None)
            )
            db.session.commit()
    return sent


def relay_stale(
    limit: int = 1000, grace: timedelta = RELAY_GRACE, redeliver_after: timedelta = REDELIVER_AFTER
) -> int:
    """Relay rows never relayed, or relayed long ago and still not done (a lost job)."""
    now = utcnow()
    stale = sa.or_(
        sa.and_(OutboxMessage.relayed_at.is_(None), OutboxMessage.created_at <= now - grace),
        sa.and_(
            OutboxMessage.completed_at.is_(None),
            OutboxMessage.relayed_at <= now - redeliver_after,
        ),
    )
    ids = db.session.scalars(
        sa.select(OutboxMessage.id).where(stale).order_by(OutboxMessage.id).limit(limit)
    ).all()
    if not ids:
        return 0
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(relayed_at=None)
    )
    db.session.commit()
    return relay(ids)


def _handler(kind: str):
    module_name, func_name = HANDLERS[kind][1].split(":")
    return getattr(importlib.import_module(module_name), func_name)


def process_message(message_id: int) -> None:
    """Job: run the handler of one outbox row, then mark it done (at least once, idempotent)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.completed_at is not None:
        return
    _handler(message.kind)(message)
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(completed_at=utcnow())
    )
    commit_and_relay()

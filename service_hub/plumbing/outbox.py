"""The transactional outbox (plumbing): asynchronous work recorded in the same transaction as
its cause.

Every consequence that runs later (dispatching an order, telling residents of a visit) is a
row here, committed with the event; a relay then enqueues it under a job id of its own. A crash
between commit and enqueue loses nothing: `relay_stale` finds the row again within seconds, and
so it finds a row whose job the queue no longer holds (Redis restarted empty, a worker died
with it). Handlers are idempotent, because a row can be relayed more than once.

The outbox knows no domain: each kind's handler is registered by the composition layer
(`service_hub/wiring.py`), so consequences travel upward only through registered functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import after_this_request, g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.db_setup import end_failed_transaction
from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import FAILED, GONE, job_queue

log = logging.getLogger(__name__)


class OutboxMessage(db.Model):
    """A notification event written in the same transaction as its cause, relayed later."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    event_key: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("kind", "event_key"),)


# kind → (queue, handler taking the OutboxMessage), filled by register() at start-up.
HANDLERS: dict[str, tuple[str, Callable[[OutboxMessage], None]]] = {}


def register(kind: str, queue_name: str, handler: Callable[[OutboxMessage], None]) -> None:
    """Run `handler(message)` on `queue_name` for every outbox row of `kind` (composition)."""
    registered = HANDLERS.get(kind)
    if registered is not None and registered != (queue_name, handler):
        raise ValueError(f"outbox kind {kind!r} has a handler already: {registered}")
    HANDLERS[kind] = (queue_name, handler)


# A row younger than this may still be on its way to the queue (relayed after the response).
RELAY_GRACE = timedelta(seconds=5)
# A row whose job failed is tried again after this (its worker already retried outages).
REDELIVER_AFTER = timedelta(minutes=10)


def job_id_for(message_id: int) -> str:
    """The job id of an outbox row, so the queue can be asked whether it still holds it."""
    return f"outbox-{message_id}"


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
                end_failed_transaction()
            return response

    g.outbox_pending.extend(ids)


def relay(ids: list[int]) -> int:
    """Claim the given unrelayed rows and enqueue a job for each; returns how many."""
    return _claim_and_enqueue(
        sa.and_(OutboxMessage.id.in_(ids), OutboxMessage.relayed_at.is_(None))
    )


def _claim_and_enqueue(claimable) -> int:
    # The claim is one UPDATE, so two relays running together never enqueue a row twice.
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(claimable)
        .values(relayed_at=utcnow())
        .returning(OutboxMessage.id, OutboxMessage.kind)
    ).all()
    db.session.commit()
    sent = 0
    for message_id, kind in claimed:
        queue_name = HANDLERS[kind][0]
        try:
            job_queue().enqueue(
                queue_name, process_message, message_id, job_id=job_id_for(message_id)
            )
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


def _relay_again(rows: list[int], relayed_before, wanted) -> int:
    """Relay again the rows among `rows` whose job state is in `wanted` (and which nobody
    claimed since relayed_before)."""
    states = job_queue().job_states([job_id_for(message_id) for message_id in rows])
    again = [message_id for message_id in rows if states[job_id_for(message_id)] in wanted]
    if not again:
        return 0
    return _claim_and_enqueue(
        sa.and_(
            OutboxMessage.id.in_(again),
            OutboxMessage.completed_at.is_(None),
            OutboxMessage.relayed_at <= relayed_before,
        )
    )


def _unfinished(relayed_from, relayed_until, limit: int) -> list[int]:
    query = sa.select(OutboxMessage.id).where(
        OutboxMessage.completed_at.is_(None), OutboxMessage.relayed_at <= relayed_until
    )
    if relayed_from is not None:
        query = query.where(OutboxMessage.relayed_at > relayed_from)
    return list(db.session.scalars(query.order_by(OutboxMessage.relayed_at).limit(limit)))


def relay_stale(
    limit: int = 1000, grace: timedelta = RELAY_GRACE, redeliver_after: timedelta = REDELIVER_AFTER
) -> int:
    """Periodic (every few seconds): relay rows never relayed, and rows relayed lately whose
    job the queue no longer holds, neither waiting nor failed: lost with Redis's data or with
    a dead worker. Rows relayed longer ago are redeliver_overdue's."""
    now = utcnow()
    never = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.relayed_at.is_(None), OutboxMessage.created_at <= now - grace)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    # Only the recent rows: an index range on relayed_at, however long the table grows.
    recent = _unfinished(now - redeliver_after, now - grace, limit)
    db.session.commit()
    sent = relay(list(never)) if never else 0
    return sent + _relay_again(recent, now - grace, {GONE})


def redeliver_overdue(limit: int = 1000, redeliver_after: timedelta = REDELIVER_AFTER) -> int:
    """Periodic (every minute): relay again rows relayed long ago and still not done whose job
    is not waiting: a handler that keeps failing is tried again every redeliver_after."""
    now = utcnow()
    overdue = _unfinished(None, now - redeliver_after, limit)
    db.session.commit()
    return _relay_again(overdue, now - redeliver_after, {GONE, FAILED})


def process_message(message_id: int) -> None:
    """Job: run the handler of one outbox row, then mark it done (at least once, idempotent)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.completed_at is not None:
        return
    HANDLERS[message.kind][1](message)
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(completed_at=utcnow())
    )
    commit_and_relay()

"""Community broadcast: one message to every bound resident, in chunked jobs.

One job per resident cannot carry a 10,000-resident community (RQ costs 10-25 ms a job);
one job per chunk of hundreds can. Chunks are enqueued in one pipeline, and every delivery
(inbox row, WeChat delivery) is deduplicated by the database, so a re-delivered chunk, a
restarted fan-out or the reconciler never sends anything twice. The reconciler finishes what
a killed worker left: residents with no delivery yet, deliveries still queued or decided
(`ready`) but never claimed, and sends interrupted mid-call (`sending`: marked failed, never
re-sent).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from models import Broadcast, CommunityBinding, Delivery, DeliveryStatus, OutboxMessage
from models.base import utcnow
from notifications import wechat_channel
from notifications.inbox import deliver_to_inbox
from notifications.wechat_decisions import among
from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import job_queue
from service_hub.plumbing.sql import insert_ignoring_duplicates

RECONCILE_AFTER = timedelta(minutes=2)
INTERRUPTED_AFTER = timedelta(minutes=10)
UNFINISHED = (DeliveryStatus.QUEUED, DeliveryStatus.READY, DeliveryStatus.SENDING)


def chunk_bounds(resident_ids: list[int], size: int) -> list[tuple[int, int]]:
    """Split sorted resident ids into inclusive (first, last) ranges of at most `size` ids."""
    return [
        (resident_ids[i], resident_ids[min(i + size, len(resident_ids)) - 1])
        for i in range(0, len(resident_ids), size)
    ]


def _bound_residents(community_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(CommunityBinding.resident_id)
            .where(CommunityBinding.community_id == community_id)
            .order_by(CommunityBinding.resident_id)
        )
    )


def _enqueue_chunks(message_id: int, broadcast_id: int, resident_ids: list[int]) -> int:
    size = current_app.config["NOTIFICATION_CHUNK_SIZE"]
    return job_queue().enqueue_many(
        "notifications",
        deliver_chunk,
        [
            (message_id, first, last, broadcast_id)
            for first, last in chunk_bounds(resident_ids, size)
        ],
    )


def handle_community_broadcast(message: OutboxMessage) -> None:
    """Outbox handler: record the broadcast, then one delivery job per chunk of residents."""
    payload = message.payload
    resident_ids = _bound_residents(payload["community_id"])
    insert_ignoring_duplicates(
        Broadcast,
        [
            {
                "outbox_message_id": message.id,
                "community_id": payload["community_id"],
                "kind": payload["kind"],
                "event_key": message.event_key,
                "recipients": len(resident_ids),
                "created_at": utcnow(),
            }
        ],
        ["outbox_message_id"],
    )
    broadcast_id = db.session.scalar(
        sa.select(Broadcast.id).where(Broadcast.outbox_message_id == message.id)
    )
    db.session.commit()
    _enqueue_chunks(message.id, broadcast_id, resident_ids)


def deliver_chunk(
    message_id: int, first_resident_id: int, last_resident_id: int, broadcast_id: int | None = None
) -> int:
    """Job: inbox and WeChat delivery to the community's residents with ids in [first, last]."""
    message = db.session.get(OutboxMessage, message_id)
    payload = message.payload
    resident_ids = list(
        db.session.scalars(
            sa.select(CommunityBinding.resident_id).where(
                CommunityBinding.community_id == payload["community_id"],
                CommunityBinding.resident_id.between(first_resident_id, last_resident_id),
            )
        )
    )
    delivered = deliver_to_inbox(resident_ids, payload["kind"], message.event_key, payload)
    new = wechat_channel.plan(
        resident_ids, payload["kind"], message.event_key, payload, broadcast_id
    )
    # What this run planned, and what an earlier run of the chunk planned or decided but never
    # put on the wire (it met a database outage or was killed): the whole chunk is decided in
    # one transaction (this one), and each delivery is claimed once, just before its request.
    if len(new) == len(resident_ids):
        wechat_channel.send(new)
        return delivered
    untried = db.session.scalars(
        sa.select(Delivery.id).where(
            among(Delivery.resident_id, resident_ids),
            Delivery.kind == payload["kind"],
            Delivery.event_key == message.event_key,
            sa.or_(
                sa.and_(Delivery.status == DeliveryStatus.QUEUED, Delivery.attempts == 0),
                Delivery.status == DeliveryStatus.READY,
            ),
        )
    ).all()
    wechat_channel.send(list(untried))
    return delivered


def reconcile(
    reconcile_after: timedelta = RECONCILE_AFTER, interrupted_after: timedelta = INTERRUPTED_AFTER
) -> dict[str, int]:
    """Periodic: finish broadcasts a dead worker left behind, then mark them finished."""
    now = utcnow()
    stuck = db.session.execute(
        sa.update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.SENDING, Delivery.updated_at < now - interrupted_after
        )
        .values(status=DeliveryStatus.FAILED, updated_at=now)
    ).rowcount
    db.session.commit()
    counts = {"interrupted": stuck, "requeued": 0, "missing": 0, "finished": 0}
    open_broadcasts = db.session.scalars(
        sa.select(Broadcast).where(
            Broadcast.finished_at.is_(None), Broadcast.created_at <= now - reconcile_after
        )
    ).all()
    for broadcast in open_broadcasts:
        delivered = set(
            db.session.scalars(
                sa.select(Delivery.resident_id).where(
                    Delivery.kind == broadcast.kind, Delivery.event_key == broadcast.event_key
                )
            )
        )
        missing = [rid for rid in _bound_residents(broadcast.community_id) if rid not in delivered]
        queued = list(
            db.session.scalars(
                sa.select(Delivery.id).where(
                    Delivery.broadcast_id == broadcast.id,
                    Delivery.status.in_(UNFINISHED),
                    Delivery.updated_at <= now - reconcile_after,
                )
            )
        )
        if missing:
            counts["missing"] += len(missing)
            _enqueue_chunks(broadcast.outbox_message_id, broadcast.id, missing)
        if queued:
            counts["requeued"] += len(queued)
            job_queue().enqueue("notifications", wechat_channel.send, queued)
        if not missing and not queued:
            pending = db.session.scalar(
                sa.select(sa.func.count()).where(
                    Delivery.broadcast_id == broadcast.id,
                    Delivery.status.in_(UNFINISHED),
                )
            )
            if not pending:
                broadcast.finished_at = now
                counts["finished"] += 1
    db.session.commit()
    return counts

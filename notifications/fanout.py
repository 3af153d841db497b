"""Community broadcast: one message to every bound resident, in chunked jobs.

One job per resident cannot carry a 10,000-resident community (RQ costs 10-25 ms a job);
one job per chunk of hundreds can. Chunks are enqueued in one pipeline, and each delivery
is deduplicated by the database, so a re-run chunk or a restarted fan-out sends nothing twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from models import CommunityBinding, OutboxMessage
from notifications.inbox import deliver_to_inbox
from service_hub.extensions import db
from service_hub.jobqueue import job_queue


def chunk_bounds(resident_ids: list[int], size: int) -> list[tuple[int, int]]:
    """Split sorted resident ids into inclusive (first, last) ranges of at most `size` ids."""
    return [
        (resident_ids[i], resident_ids[min(i + size, len(resident_ids)) - 1])
        for i in range(0, len(resident_ids), size)
    ]


def handle_community_broadcast(message: OutboxMessage) -> None:
    """Outbox handler: enqueue one delivery job per chunk of the community's residents."""
    community_id = message.payload["community_id"]
    resident_ids = db.session.scalars(
        sa.select(CommunityBinding.resident_id)
        .where(CommunityBinding.community_id == community_id)
        .order_by(CommunityBinding.resident_id)
    ).all()
    size = current_app.config["NOTIFICATION_CHUNK_SIZE"]
    job_queue().enqueue_many(
        "notifications",
        deliver_chunk,
        [(message.id, first, last) for first, last in chunk_bounds(resident_ids, size)],
    )


def deliver_chunk(message_id: int, first_resident_id: int, last_resident_id: int) -> int:
    """Job: deliver a broadcast to the community's residents with ids in [first, last]."""
    message = db.session.get(OutboxMessage, message_id)
    payload = message.payload
    resident_ids = db.session.scalars(
        sa.select(CommunityBinding.resident_id).where(
            CommunityBinding.community_id == payload["community_id"],
            CommunityBinding.resident_id.between(first_resident_id, last_resident_id),
        )
    ).all()
    delivered = deliver_to_inbox(resident_ids, payload["kind"], message.event_key, payload)
    db.session.commit()
    return delivered

"""Outbox relay, community fan-out and the inbox: nothing lost, nothing sent twice."""

from datetime import timedelta

import sqlalchemy as sa

from models import InboxNotification, OutboxMessage
from models.base import utcnow
from notifications import fanout
from service_hub.plumbing import outbox
from service_hub.plumbing.extensions import db
from tests import factories as f


def announce(app, community_id: int) -> int:
    """Write a visit announcement to the outbox (without relaying it) and return its id."""
    with app.app_context():
        message_id = outbox.record(
            "visit_announced",
            f"visit:{community_id}",
            {
                "kind": "visit_announced",
                "community_id": community_id,
                "visit_id": 1,
                "engineer_name": "张师傅",
                "community_name": "测试小区",
                "local_start": "2026年12月1日 10:00",
            },
        )
        db.session.info.pop("outbox_ids")
        db.session.commit()
        return message_id


def inbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification))


def test_chunks_cover_every_resident_once():
    bounds = fanout.chunk_bounds([1, 2, 5, 9, 10], 2)
    assert bounds == [(1, 2), (5, 9), (10, 10)]


def test_a_broadcast_reaches_every_bound_resident_in_chunks(app, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFICATION_CHUNK_SIZE", 2)
    community_id = f.community(app)
    for _ in range(5):
        f.resident(app, communities=(community_id,))
    f.resident(app, communities=(f.community(app),))
    message_id = announce(app, community_id)
    with app.app_context():
        outbox.relay([message_id])
    run_jobs()
    assert inbox_count(app) == 5


def test_a_chunk_delivered_twice_sends_nothing_twice(app):
    community_id = f.community(app)
    residents = [f.resident(app, communities=(community_id,)) for _ in range(3)]
    message_id = announce(app, community_id)
    with app.app_context():
        first = fanout.deliver_chunk(message_id, residents[0], residents[-1])
        second = fanout.deliver_chunk(message_id, residents[0], residents[-1])
    assert (first, second) == (3, 0)
    assert inbox_count(app) == 3


def test_a_message_never_relayed_is_picked_up_by_the_stale_relay(app, run_jobs):
    community_id = f.community(app)
    f.resident(app, communities=(community_id,))
    message_id = announce(app, community_id)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        assert outbox.relay_stale() == 1
    run_jobs()
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).completed_at is not None
    assert inbox_count(app) == 1


def test_a_message_relayed_recently_is_left_alone(app):
    message_id = announce(app, f.community(app))
    with app.app_context():
        outbox.relay([message_id])
        assert outbox.relay_stale() == 0


def test_a_processed_message_is_not_processed_again(app, run_jobs):
    community_id = f.community(app)
    f.resident(app, communities=(community_id,))
    message_id = announce(app, community_id)
    with app.app_context():
        outbox.process_message(message_id)
    run_jobs()
    with app.app_context():
        db.session.execute(sa.delete(InboxNotification))
        db.session.commit()
        outbox.process_message(message_id)
    run_jobs()
    assert inbox_count(app) == 0


def test_marking_read_lowers_the_unread_count(app, client, run_jobs):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    with app.app_context():
        outbox.relay([announce(app, community_id)])
    run_jobs()
    auth = f.resident_auth(app, resident_id)
    assert client.get("/api/v1/me/inbox", headers=auth).json["unread"] == 1
    marked = client.post("/api/v1/me/inbox/read", headers=auth, json={}).json
    assert marked == {"marked": 1, "unread": 0}

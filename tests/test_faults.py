"""Faults: Redis stopped while orders come in, a worker dying mid-dispatch, PostgreSQL
going away and coming back."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError

from models import DispatchOffer, OutboxMessage, ServiceOrder
from service_hub import create_app, worker
from service_hub.plumbing import outbox
from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import RQJobQueue
from tests import factories as f

server_backend = pytest.mark.parametrize("app", ["postgres-redis"], indirect=True)


def world(app):
    community_id = f.community(app)
    f.engineer(app, communities=(community_id,), max_open_orders=100)
    resident_id = f.resident(app, communities=(community_id,))
    return community_id, f.resident_auth(app, resident_id), f.service_type(app)


def order(client, community_id, auth, service_id):
    return client.post(
        "/api/v1/orders",
        headers=auth,
        json={"community_id": community_id, "service_type_id": service_id},
    )


@server_backend
def test_orders_are_taken_while_redis_is_down_and_dispatched_once_it_is_back(
    app, client, run_jobs, monkeypatch
):
    community_id, auth, service_id = world(app)
    real_queue = app.extensions["job_queue"]
    monkeypatch.setitem(app.extensions, "job_queue", RQJobQueue("redis://127.0.0.1:1/0"))
    responses = [order(client, community_id, auth, service_id) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert client.get("/readyz").json["checks"] == {"database": True, "queue": False}
    with app.app_context():
        waiting = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.relayed_at.is_(None))
        )
    assert waiting == 3  # the outbox holds the work

    monkeypatch.setitem(app.extensions, "job_queue", real_queue)  # Redis is back
    with app.app_context():
        assert outbox.relay_stale(grace=timedelta(0)) == 3
    run_jobs()
    with app.app_context():
        offers = db.session.execute(
            sa.select(DispatchOffer.order_id, sa.func.count()).group_by(DispatchOffer.order_id)
        ).all()
    assert sorted(offers) == sorted((r.json["id"], 1) for r in responses)


@server_backend
def test_a_dispatch_lost_with_its_worker_is_redelivered_and_done_once(app, client, run_jobs):
    community_id, auth, service_id = world(app)
    order_id = order(client, community_id, auth, service_id).json["id"]
    app.extensions["job_queue"].redis.flushdb()  # the worker died holding the job
    with app.app_context():
        assert (
            db.session.scalar(sa.select(ServiceOrder.status).where(ServiceOrder.id == order_id))
            == "created"
        )
        assert outbox.relay_stale(grace=timedelta(0)) == 1  # the queue no longer holds its job
    run_jobs()
    with app.app_context():
        outbox.redeliver_overdue(redeliver_after=timedelta(0))  # a second redelivery: no change
    run_jobs()
    with app.app_context():
        offers = db.session.scalar(
            sa.select(sa.func.count()).where(DispatchOffer.order_id == order_id)
        )
    assert offers == 1


def test_an_unreachable_database_is_a_clean_503(app):
    if app.config["BACKEND"] == "embedded":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    else:
        url = app.config["SQLALCHEMY_DATABASE_URI"].replace("127.0.0.1:5432", "127.0.0.1:1")
    down = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
            "INPROCESS_TIMERS": False,
        }
    )
    client = down.test_client()
    assert client.get("/readyz").status_code == 503
    response = client.get("/api/v1/communities/1")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"


@server_backend
def test_the_service_recovers_by_itself_when_postgresql_drops_its_connections(app, client):
    community_id = f.community(app)
    assert client.get(f"/api/v1/communities/{community_id}").status_code == 200
    with app.app_context():  # what a restart looks like from the pool: every session killed
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with other.begin() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        other.dispose()
    assert client.get(f"/api/v1/communities/{community_id}").status_code == 200


def unreachable():
    """A job that always finds Redis gone (importable by RQ workers)."""
    raise RedisConnectionError("simulated outage")


@server_backend
def test_a_job_that_keeps_meeting_an_outage_is_retried_a_bounded_number_of_times(app, monkeypatch):
    monkeypatch.setattr(worker, "OUTAGE_RETRIES", 2)
    monkeypatch.setattr(worker, "outage_pause", lambda attempt: 0)
    job = app.extensions["job_queue"].queues["default"].enqueue(unreachable)
    worker.build_worker(app, ("default",), simple=True).work(burst=True, logging_level="ERROR")
    job.refresh()
    assert (job.get_status(), job.meta.get("outage_retries")) == ("failed", 2)

"""Exactly once, with real RQ workers in parallel on PostgreSQL + Redis: an order is never
assigned twice and never offered twice to the same engineer."""

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dispatch import assignment
from dispatch.jobs import dispatch_order
from models import DispatchOffer, OrderEvent, OutboxMessage, ServiceOrder
from models.base import utcnow
from service_hub.plumbing.extensions import db
from tests import factories as f

server_backend = pytest.mark.parametrize("app", ["postgres-redis"], indirect=True)


def setting(app, engineers=3):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    service_id = f.service_type(app)
    engineer_ids = [
        f.engineer(app, communities=(community_id,), max_open_orders=1000) for _ in range(engineers)
    ]
    return community_id, resident_id, service_id, engineer_ids


def create_orders(app, client, community_id, resident_id, service_id, count):
    auth = f.resident_auth(app, resident_id)
    ids = []
    for _ in range(count):
        response = client.post(
            "/api/v1/orders",
            headers=auth,
            json={"community_id": community_id, "service_type_id": service_id},
        )
        assert response.status_code == 201, ("create order", response.json)
        ids.append(response.json["id"])
    return ids


def offer_counts(app) -> list[tuple[int, int, int]]:
    """(order_id, offers, distinct engineers) for every order."""
    with app.app_context():
        return db.session.execute(
            sa.select(
                DispatchOffer.order_id,
                sa.func.count(),
                sa.func.count(sa.distinct(DispatchOffer.engineer_id)),
            ).group_by(DispatchOffer.order_id)
        ).all()


def start_workers(app, count: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "testing",
        "REDIS_URL": app.config["REDIS_URL"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "worker",
                "--burst",
                "--without-scheduler",
                "dispatch",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]


@server_backend
def test_two_workers_with_every_job_delivered_twice_make_one_offer_per_order(app, client):
    community_id, resident_id, service_id, _ = setting(app)
    order_ids = create_orders(app, client, community_id, resident_id, service_id, 30)
    queue = app.extensions["job_queue"]
    # A second delivery of every dispatch, as RQ may do after a worker dies mid-job.
    queue.enqueue_many("dispatch", dispatch_order, [(order_id,) for order_id in order_ids])
    workers = start_workers(app, 2)
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()
    counts = offer_counts(app)
    assert sorted(order_id for order_id, _, _ in counts) == sorted(order_ids)
    assert all(offers == 1 and engineers == 1 for _, offers, engineers in counts)


def run_together(*functions) -> list:
    """Run the functions in threads released at the same instant; return results/errors."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(index, function):
        barrier.wait()
        try:
            results[index] = function()
        except Exception as exc:  # the race's loser may raise; the test inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(n, fn)) for n, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def offered_order(app, client, run_jobs):
    community_id, resident_id, service_id, engineers = setting(app, engineers=2)
    [order_id] = create_orders(app, client, community_id, resident_id, service_id, 1)
    run_jobs()
    with app.app_context():
        offer = db.session.scalars(sa.select(DispatchOffer)).one()
        return order_id, offer.id, offer.engineer_id


def in_context(app, function, *args):
    def call():
        with app.app_context():
            return function(*args)

    return call


@server_backend
def test_an_accept_racing_a_due_expiry_settles_the_offer_once(app, client, run_jobs):
    order_id, offer_id, engineer_id = offered_order(app, client, run_jobs)
    with app.app_context():
        db.session.execute(sa.update(DispatchOffer).values(expires_at=utcnow()))
        db.session.commit()
    accept, expire = run_together(
        in_context(app, assignment.accept, order_id, engineer_id),
        in_context(app, assignment.expire_offer, offer_id),
    )
    # Whoever locks first expires the offer; the accept is refused either way.
    assert getattr(accept, "status", None) == 409
    with app.app_context():
        actions = db.session.scalars(
            sa.select(OrderEvent.action).where(OrderEvent.order_id == order_id)
        ).all()
        redispatches = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.kind == "order_dispatch")
        )
        order = db.session.get(ServiceOrder, order_id)
    assert actions.count("expire") == 1
    assert redispatches == 2  # the first dispatch, and one after the single expiry
    assert order.engineer_id is None


@server_backend
def test_an_accept_racing_an_early_expiry_job_wins(app, client, run_jobs):
    order_id, offer_id, engineer_id = offered_order(app, client, run_jobs)
    accept, expired = run_together(
        in_context(app, assignment.accept, order_id, engineer_id),
        in_context(app, assignment.expire_offer, offer_id),
    )
    assert expired is False
    with app.app_context():
        order = db.session.get(ServiceOrder, order_id)
        offer = db.session.get(DispatchOffer, offer_id)
    assert (order.status, order.engineer_id, offer.status) == ("accepted", engineer_id, "accepted")


@server_backend
def test_two_accepts_of_one_offer_assign_the_order_once(app, client, run_jobs):
    order_id, _, engineer_id = offered_order(app, client, run_jobs)
    first, second = run_together(
        in_context(app, assignment.accept, order_id, engineer_id),
        in_context(app, assignment.accept, order_id, engineer_id),
    )
    outcomes = sorted(type(result).__name__ for result in (first, second))
    assert outcomes == ["AppError", "ServiceOrder"]
    with app.app_context():
        accepts = db.session.scalar(
            sa.select(sa.func.count()).where(
                OrderEvent.order_id == order_id, OrderEvent.action == "accept"
            )
        )
    assert accepts == 1


def test_an_overdue_offer_is_expired_by_the_sweep(app, client, run_jobs):
    order_id, offer_id, _ = offered_order(app, client, run_jobs)
    with app.app_context():
        db.session.execute(
            sa.update(DispatchOffer).values(expires_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        swept = assignment.sweep()
    run_jobs()
    assert swept == {"expired_offers": 1}
    with app.app_context():
        assert db.session.get(DispatchOffer, offer_id).status == "expired"
        offers = db.session.scalar(
            sa.select(sa.func.count()).where(DispatchOffer.order_id == order_id)
        )
    assert offers == 2

"""A worker killed in the middle of a community broadcast: after a restart every resident is
reached exactly once (PostgreSQL + Redis, real RQ worker processes)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Delivery, InboxNotification
from notifications import fanout
from service_hub.plumbing.extensions import db
from tests import factories as f

RESIDENTS = 300


def crowd(app, community_id: int) -> None:
    """RESIDENTS bound residents, each with one visit_announced credit."""
    f.subscription_credits(app, f.many_residents(app, community_id, RESIDENTS), "visit_announced")


def sending_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(Delivery.status == "sending"))


@pytest.mark.parametrize("app", ["postgres-redis"], indirect=True)
def test_a_worker_killed_mid_broadcast_loses_and_duplicates_nothing(
    app, run_jobs, fake_wechat, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTIFICATION_CHUNK_SIZE", 50)
    monkeypatch.setitem(app.config, "QUIET_HOURS", "00:00-00:00")
    community_id = f.community(app)
    crowd(app, community_id)
    f.announce_visit(app, community_id, "visit:kill")

    fake_wechat.state.send_gate.clear()
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "testing",
        "REDIS_URL": app.config["REDIS_URL"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WECHAT_API_BASE": fake_wechat.base_url,
        "QUIET_HOURS": "00:00-00:00",
        "NOTIFICATION_CHUNK_SIZE": "50",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "worker",
            "--simple",
            "--burst",
            "--without-scheduler",
            "notifications",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert fake_wechat.state.wait_for_arrivals(1), "the worker never reached WeChat"
        # The worker claims a few deliveries, then writes their requests: kill it once every
        # claimed request is held at WeChat (mid-send, with chunks still queued behind it).
        in_flight = sending_count(app)
        assert fake_wechat.state.wait_for_arrivals(in_flight), "claimed but never sent"
        worker.kill()
        worker.wait(timeout=30)
    finally:
        fake_wechat.state.send_gate.set()

    with app.app_context():
        fanout.reconcile(reconcile_after=timedelta(0), interrupted_after=timedelta(0))
    run_jobs()  # the restarted worker

    with app.app_context():
        inbox = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(InboxNotification.resident_id)))
        )
        inbox_rows = db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification))
        deliveries = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
        interrupted = db.session.scalar(
            sa.select(sa.func.count()).where(Delivery.status == "failed")
        )
    sent_to = [m["touser"] for m in fake_wechat.state.sent_messages]
    assert (inbox, inbox_rows, deliveries) == (RESIDENTS, RESIDENTS, RESIDENTS)
    assert len(sent_to) == len(set(sent_to)) == RESIDENTS
    # The sends in flight at the kill: WeChat had them; marked failed, never sent again.
    assert interrupted == in_flight >= 1

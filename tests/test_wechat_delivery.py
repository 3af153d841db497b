"""WeChat subscribe messages: credits, caps, quiet hours, opt-outs, errors, broadcasts."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Delivery, InboxNotification, RuntimeFlag, SubscriptionCredit
from notifications import fanout, wechat_channel, wechat_decisions
from service_hub.plumbing import outbox
from service_hub.plumbing.extensions import db
from tests import factories as f

EVERYWHERE = "00:00-00:00"  # an empty quiet window: never quiet
NOTICE = {
    "kind": "order_accepted",
    "order_id": 1,
    "engineer_name": "张师傅",
    "service_name": "滤芯更换",
}


@pytest.fixture(autouse=True)
def _loud_hours(app, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", EVERYWHERE)


def grant(client, app, resident_id, kind, times=1):
    template = app.config["WECHAT_TEMPLATES"][kind]
    for _ in range(times):
        response = client.post(
            "/api/v1/me/subscriptions",
            headers=f.resident_auth(app, resident_id),
            json={"results": {template: "accept"}},
        )
        assert response.status_code == 200, ("accept a subscribe prompt", response.json)


def notify(app, resident_id, kind="order_accepted", key="order:1:accepted", **payload):
    with app.app_context():
        message_id = outbox.record(
            "resident_notify",
            key,
            {
                "kind": kind,
                "resident_id": resident_id,
                "order_id": 1,
                "engineer_name": "张师傅",
                "service_name": "滤芯更换",
                **payload,
            },
        )
        outbox.commit_and_relay()
    return message_id


broadcast = f.announce_visit


def statuses(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            sa.select(Delivery.resident_id, Delivery.status, Delivery.errcode).order_by(Delivery.id)
        ).all()


def test_a_resident_with_a_credit_gets_the_wechat_message(app, client, run_jobs, fake_wechat):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    notify(app, resident_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "sent", None)]
    [message] = fake_wechat.state.sent_messages
    assert message["template_id"] == app.config["WECHAT_TEMPLATES"]["order_accepted"]
    assert message["data"]["phrase4"] == {"value": "已接单"}


def test_one_acceptance_allows_exactly_one_send(app, client, run_jobs):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    notify(app, resident_id, key="order:1:accepted")
    notify(app, resident_id, key="order:2:accepted")
    run_jobs()
    assert [s for _, s, _ in statuses(app)] == ["sent", "skipped_no_credit"]


def test_without_a_credit_the_inbox_still_gets_the_message(app, client, run_jobs, fake_wechat):
    resident_id = f.resident(app)
    notify(app, resident_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "skipped_no_credit", None)]
    assert fake_wechat.state.sent_messages == []
    inbox = client.get("/api/v1/me/inbox", headers=f.resident_auth(app, resident_id)).json
    assert inbox["total"] == 1


def test_43101_spends_the_credit_and_is_not_retried(app, client, run_jobs, fake_wechat):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    with app.app_context():
        from models import Resident

        fake_wechat.state.no_quota.add(db.session.get(Resident, resident_id).openid)
    notify(app, resident_id)
    run_jobs(include_scheduled=True)
    assert statuses(app) == [(resident_id, "failed", 43101)]
    with app.app_context():
        assert db.session.scalar(sa.select(SubscriptionCredit.spent_at)) is not None


def test_a_transient_error_is_retried_and_then_sent(app, client, run_jobs, fake_wechat):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    fake_wechat.state.fail_next("subscribe_send", -1, "system error")
    notify(app, resident_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "queued", -1)]
    if app.config["BACKEND"] == "postgres-redis":
        with app.app_context():
            # RQ's scheduler runs only what is due: make the backoff due now.
            queue = app.extensions["job_queue"].queues["notifications"]
            for job_id in queue.scheduled_job_registry.get_job_ids():
                queue.scheduled_job_registry.remove(job_id)
                queue.enqueue_job(queue.fetch_job(job_id))
    run_jobs(include_scheduled=True)
    assert [s for _, s, _ in statuses(app)] == ["sent"]


def test_a_permanent_error_is_not_retried_and_the_credit_comes_back(
    app, client, run_jobs, fake_wechat
):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    fake_wechat.state.fail_next("subscribe_send", 40037, "invalid template_id")
    notify(app, resident_id)
    run_jobs(include_scheduled=True)
    assert statuses(app) == [(resident_id, "failed", 40037)]
    with app.app_context():
        assert db.session.scalar(sa.select(SubscriptionCredit.spent_at)) is None


def test_the_daily_limit_stops_wechat_sends_for_the_day(app, client, run_jobs, fake_wechat):
    first, second = f.resident(app), f.resident(app)
    grant(client, app, first, "order_accepted")
    grant(client, app, second, "order_accepted")
    fake_wechat.state.fail_next("subscribe_send", 45009, "reach max api daily quota limit")
    notify(app, first, key="order:1:accepted")
    run_jobs()
    notify(app, second, key="order:2:accepted")
    run_jobs()
    assert [s for _, s, _ in statuses(app)] == ["blocked_daily_limit", "blocked_daily_limit"]
    assert fake_wechat.state.sent_messages == []
    with app.app_context():
        assert db.session.get(RuntimeFlag, wechat_channel.DAILY_LIMIT_FLAG) is not None


def test_an_opted_out_kind_goes_to_the_inbox_only(app, client, run_jobs):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    auth = f.resident_auth(app, resident_id)
    assert (
        client.put("/api/v1/me/notification-opt-outs/order_accepted", headers=auth).status_code
        == 204
    )
    notify(app, resident_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "opted_out", None)]


def test_marketing_in_quiet_hours_is_deferred(app, client, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "00:00-23:59")
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    grant(client, app, resident_id, "visit_announced")
    broadcast(app, community_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "deferred", None)]


def test_transactional_messages_ignore_quiet_hours(app, client, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "00:00-23:59")
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    notify(app, resident_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "sent", None)]


def test_a_second_marketing_message_the_same_day_is_capped(app, client, run_jobs):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    grant(client, app, resident_id, "visit_announced", times=2)
    broadcast(app, community_id, key="visit:1")
    run_jobs()
    broadcast(app, community_id, key="visit:2")
    run_jobs()
    assert [s for _, s, _ in statuses(app)] == ["sent", "capped"]


def test_a_field_that_does_not_fit_fails_before_wechat(app, client, run_jobs, fake_wechat):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    notify(app, resident_id, order_id="订单一")  # character_string refuses Chinese
    run_jobs()
    assert statuses(app) == [(resident_id, "failed", 47003)]
    assert fake_wechat.state.sent_messages == []


def test_managers_see_per_broadcast_counts(app, client, run_jobs):
    community_id = f.community(app)
    residents = [f.resident(app, communities=(community_id,)) for _ in range(3)]
    grant(client, app, residents[0], "visit_announced")
    broadcast(app, community_id)
    run_jobs()
    manager = f.staff_auth(app, f.staff(app, "manager"), "manager")
    [item] = client.get("/api/v1/broadcasts", headers=manager).json["items"]
    assert item["recipients"] == 3
    assert item["counts"] == {"sent": 1, "skipped_no_credit": 2}


def test_the_reconciler_reaches_residents_a_dead_worker_missed(app, client, run_jobs):
    community_id = f.community(app)
    residents = [f.resident(app, communities=(community_id,)) for _ in range(4)]
    broadcast(app, community_id)
    run_jobs()
    with app.app_context():  # as if the chunk for the last two never ran
        db.session.execute(sa.delete(Delivery).where(Delivery.resident_id.in_(residents[2:])))
        db.session.execute(
            sa.delete(InboxNotification).where(InboxNotification.resident_id.in_(residents[2:]))
        )
        db.session.commit()
        counts = fanout.reconcile(reconcile_after=timedelta(0))
    run_jobs()
    assert counts["missing"] == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification)) == 4
        fanout.reconcile(reconcile_after=timedelta(0))
        from models import Broadcast

        assert db.session.scalar(sa.select(Broadcast.finished_at)) is not None


def test_a_send_interrupted_mid_call_is_marked_failed_not_resent(
    app, client, run_jobs, fake_wechat
):
    resident_id = f.resident(app)
    notify(app, resident_id)
    run_jobs()
    with app.app_context():
        db.session.execute(sa.update(Delivery).values(status="sending"))
        db.session.commit()
        assert fanout.reconcile(interrupted_after=timedelta(0))["interrupted"] == 1
    assert statuses(app) == [(resident_id, "failed", None)]
    assert fake_wechat.state.sent_messages == []


def test_a_delivery_decided_by_a_worker_that_died_is_sent_with_the_credit_it_holds(
    app, client, fake_wechat
):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted", times=2)
    with app.app_context():
        [delivery_id] = wechat_channel.plan([resident_id], "order_accepted", "order:1", NOTICE)
        wechat_decisions.decide([delivery_id])  # then the worker died: decided, never sent
        wechat_channel.send([delivery_id])
        spent = db.session.scalar(
            sa.select(sa.func.count()).where(SubscriptionCredit.spent_at.is_not(None))
        )
    assert statuses(app) == [(resident_id, "sent", None)]
    assert len(fake_wechat.state.sent_messages) == 1
    assert spent == 1


def test_the_daily_limit_mid_batch_gives_the_unsent_their_credits_back(
    app, client, fake_wechat, monkeypatch
):
    monkeypatch.setitem(app.config, "WECHAT_SEND_CONCURRENCY", 1)
    residents = [f.resident(app) for _ in range(3)]
    for resident_id in residents:
        grant(client, app, resident_id, "order_accepted")
    fake_wechat.state.fail_next("subscribe_send", 45009, "reach max api daily quota limit")
    with app.app_context():
        ids = [
            wechat_channel.plan([rid], "order_accepted", "order:1", NOTICE)[0] for rid in residents
        ]
        wechat_channel.send(ids)
        unspent = db.session.scalar(
            sa.select(sa.func.count()).where(SubscriptionCredit.spent_at.is_(None))
        )
    assert {s for _, s, _ in statuses(app)} == {"blocked_daily_limit"}
    assert fake_wechat.state.sent_messages == []
    assert unspent == 3


def test_a_refused_access_token_is_fetched_again_and_the_message_sent_once(
    app, client, run_jobs, fake_wechat
):
    resident_id = f.resident(app)
    grant(client, app, resident_id, "order_accepted")
    fake_wechat.state.fail_next("subscribe_send", 40001, "invalid credential")
    notify(app, resident_id)
    run_jobs()
    assert statuses(app) == [(resident_id, "sent", None)]
    assert len(fake_wechat.state.sent_messages) == 1

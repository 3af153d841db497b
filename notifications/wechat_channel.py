"""The WeChat subscribe-message channel: one delivery row per (resident, kind, event),
decided and sent at most once.

`send` takes a batch (a broadcast chunk of hundreds, or one order notice): it decides the
whole batch in one transaction (notifications/wechat_decisions.py), then sends the ready
ones with bounded concurrency over kept-alive connections (service_hub/wechat/batch_send.py)
and records outcomes in batches. No transaction is held while WeChat answers.

Exactly once: a delivery is claimed (`ready` → `sending`, one UPDATE for half the slots,
committed) just before its requests are written; on PostgreSQL the claim commits in a thread
of its own while the requests already in flight are answered. A worker killed after a claim
leaves its claimed deliveries `sending`, and the reconciler marks them failed, never re-sent
(WeChat has no idempotency key); a `ready` delivery was never on the wire and is sent by
whoever runs it next. Outcomes are written with the next claim and at the end, so a kill can
leave a message WeChat accepted recorded as failed, never one sent twice. Transient WeChat
errors are retried with backoff; permanent ones are not; 45009 stops every send until local
midnight and gives the unsent ones their credits back.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from models import Delivery, DeliveryStatus, RuntimeFlag, SubscriptionCredit
from models.base import utcnow
from notifications.templates import get_kind
from notifications.wechat_decisions import (
    DAILY_LIMIT_FLAG,
    Message,
    among,
    decide,
    in_quiet_hours,
    quiet_hours_end,
    ready_messages,
    set_status,
)
from service_hub.plumbing.extensions import db
from service_hub.plumbing.jobqueue import job_queue
from service_hub.plumbing.observability import CREDITS
from service_hub.plumbing.sql import dialect_insert
from service_hub.plumbing.timefmt import local_zone
from service_hub.wechat.access_token import access_token_provider
from service_hub.wechat.batch_send import CLAIMS_IN_FLIGHT, BatchSender, Outgoing
from service_hub.wechat.client import WeChatError

__all__ = [
    "DAILY_LIMIT_FLAG",
    "in_quiet_hours",
    "next_local_midnight",
    "plan",
    "quiet_hours_end",
    "send",
]

log = logging.getLogger(__name__)

NO_REFUND = {43101}  # WeChat consumed (or never had) the user's acceptance

_senders = threading.local()  # one sender (and its kept-alive connections) per thread


_PLAN_ON_POSTGRESQL = sa.text(
    "INSERT INTO delivery (resident_id, kind, event_key, payload, broadcast_id, urgency, status,"
    " attempts, created_at, updated_at)"
    " SELECT r, :kind, :event_key, CAST(:payload AS json), :broadcast_id, :urgency, :status, 0,"
    " :now, :now FROM unnest(CAST(:resident_ids AS bigint[])) AS r"
    " ON CONFLICT (resident_id, kind, event_key) DO NOTHING RETURNING id"
)


def plan(
    resident_ids: list[int],
    kind: str,
    event_key: str,
    payload: dict,
    broadcast_id: int | None = None,
) -> list[int]:
    """Create queued deliveries for residents who have none for this event; returns the new
    ids (in the caller's transaction)."""
    if not resident_ids:
        return []
    now, urgency = utcnow(), get_kind(kind).urgency
    if db.session.get_bind().dialect.name == "postgresql":
        # One array parameter: the same prepared statement for a chunk of any size.
        values = {
            "kind": kind,
            "event_key": event_key,
            "payload": json.dumps(payload),
            "broadcast_id": broadcast_id,
            "urgency": urgency,
            "status": DeliveryStatus.QUEUED.value,
            "now": now,
            "resident_ids": list(resident_ids),
        }
        return list(db.session.scalars(_PLAN_ON_POSTGRESQL, values))
    rows = [
        {
            "resident_id": rid,
            "kind": kind,
            "event_key": event_key,
            "payload": payload,
            "broadcast_id": broadcast_id,
            "urgency": urgency,
            "status": DeliveryStatus.QUEUED,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for rid in resident_ids
    ]
    stmt = (
        dialect_insert()(Delivery.__table__)
        .on_conflict_do_nothing(index_elements=["resident_id", "kind", "event_key"])
        .returning(Delivery.__table__.c.id)
    )
    return list(db.session.scalars(stmt, rows))


def _sender() -> BatchSender:
    app = current_app._get_current_object()
    # Never reuse a connection across apps or a fork; a new concurrency gets a new sender.
    key = (id(app), os.getpid(), app.config["WECHAT_SEND_CONCURRENCY"])
    cached = getattr(_senders, "by_app", None)
    if cached is None:
        cached = _senders.by_app = {}
    if key not in cached:
        provider = access_token_provider(app)
        cached[key] = BatchSender(
            app.config["WECHAT_API_BASE"],
            provider,
            concurrency=app.config["WECHAT_SEND_CONCURRENCY"],
            timeout=provider.client.timeout,
            miniprogram_state=app.config["MINIPROGRAM_STATE"],
        )
    return cached[key]


def send(delivery_ids: list[int]) -> dict[str, int]:
    """Job: decide and send the deliveries; returns how many ended in each status. Commits
    the caller's transaction with the decisions."""
    decided, messages = decide(list(delivery_ids))
    outcomes = {s: len(ids) for s, ids in decided.items() if s != DeliveryStatus.READY}
    if deferred := decided.get(DeliveryStatus.DEFERRED):
        delay = quiet_hours_end(utcnow()) - utcnow()
        job_queue().enqueue_in("notifications", delay, send, deferred)
    # Deliveries decided earlier (by a run that died before sending them) are ready already.
    seen = {i for ids in decided.values() for i in ids}
    if earlier := [i for i in delivery_ids if i not in seen]:
        messages += ready_messages(earlier)
    if messages:
        for status, n in _Sending(messages).run().items():
            outcomes[status] = outcomes.get(status, 0) + n
    return outcomes


class _Sending:
    """One batch on the wire: claims before writes, outcomes recorded in batches."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = {m.delivery_id: m for m in messages}
        self.rows: dict[tuple, list[int]] = {}  # (status, errcode) → deliveries not yet written
        self.refunds: list[int] = []
        self.retries: dict[int, list[int]] = {}  # attempts → deliveries to try again
        self.counts: dict[str, int] = {}
        self.claimer: ThreadPoolExecutor | None = None
        self.daily_limit_hit = False
        self.flag_pending = False

    def run(self) -> dict[str, int]:
        sender = _sender()
        outgoing = [
            Outgoing(m.delivery_id, m.touser, m.template_id, m.data, m.page)
            for m in self.messages.values()
        ]
        # On PostgreSQL claims commit in a thread while answers arrive (SQLite has one writer).
        on_postgresql = db.session.get_bind().dialect.name == "postgresql"
        claims = ThreadPoolExecutor(CLAIMS_IN_FLIGHT, "claims") if on_postgresql else nullcontext()
        with claims as claimer:
            self.claimer = claimer
            unclaimed = sender.send(outgoing, self.claim, self.answered)
        self._flush()
        if unclaimed:  # 45009 stopped us: what never went gets its credit back
            ids = [o.key for o in unclaimed]
            blocked = db.session.scalars(
                sa.update(Delivery)
                .where(among(Delivery.id, ids), Delivery.status == DeliveryStatus.READY)
                .values(status=DeliveryStatus.BLOCKED_DAILY_LIMIT, updated_at=utcnow())
                .returning(Delivery.id)
            ).all()
            _refund(list(blocked))
            self._count(DeliveryStatus.BLOCKED_DAILY_LIMIT, len(blocked))
        db.session.commit()
        for attempts, ids in self.retries.items():
            job_queue().enqueue_in("notifications", timedelta(seconds=5 * 2**attempts), send, ids)
        return self.counts

    def claim(self, keys: list) -> set | Future:
        """Mark these ready deliveries sending, with the outcomes so far, in one commit; on
        PostgreSQL in a thread of its own (a Future), while the requests in flight are
        answered."""
        outcomes = (self.rows, self.refunds, self.flag_pending)
        self.rows, self.refunds, self.flag_pending = {}, [], False
        if self.claimer is None:
            return _claim(keys, *outcomes)
        app = current_app._get_current_object()

        def in_own_context() -> set:
            with app.app_context():  # its own session and connection
                return _claim(keys, *outcomes)

        return self.claimer.submit(in_own_context)

    def answered(self, outgoing: Outgoing, error: WeChatError | None) -> bool:
        """Note WeChat's answer (written with the next claim); False once the daily limit says
        stop."""
        delivery_id = outgoing.key
        attempts = self.messages[delivery_id].attempts + 1
        if error is None:
            self._outcome(delivery_id, DeliveryStatus.SENT)
        elif error.errcode == 45009:
            self.daily_limit_hit = self.flag_pending = True
            self._outcome(delivery_id, DeliveryStatus.BLOCKED_DAILY_LIMIT, 45009, refund=True)
        elif error.transient and attempts < current_app.config["WECHAT_SEND_RETRIES"]:
            self._outcome(delivery_id, DeliveryStatus.QUEUED, error.errcode, refund=True)
            self.retries.setdefault(attempts, []).append(delivery_id)
        else:
            refund = error.errcode not in NO_REFUND
            self._outcome(delivery_id, DeliveryStatus.FAILED, error.errcode, refund=refund)
        return not self.daily_limit_hit

    def _outcome(self, delivery_id: int, status: str, errcode=None, refund=False) -> None:
        self.rows.setdefault((status, errcode), []).append(delivery_id)
        if refund:
            self.refunds.append(delivery_id)
        self._count(status, 1)

    def _count(self, status: str, n: int) -> None:
        if n:
            self.counts[status] = self.counts.get(status, 0) + n

    def _flush(self) -> None:
        _write_outcomes(self.rows, self.refunds, self.flag_pending)
        self.rows, self.refunds, self.flag_pending = {}, [], False
        db.session.commit()


def _claim(keys: list, rows: dict, refunds: list, flag_pending: bool) -> set:
    _write_outcomes(rows, refunds, flag_pending)
    table = Delivery.__table__
    claimed = db.session.scalars(
        sa.update(table)
        .where(among(table.c.id, keys), table.c.status == DeliveryStatus.READY)
        .values(status=DeliveryStatus.SENDING, attempts=table.c.attempts + 1, updated_at=utcnow())
        .returning(table.c.id)
    ).all()
    db.session.commit()
    return set(claimed)


def _write_outcomes(rows: dict, refunds: list, flag_pending: bool) -> None:
    if flag_pending:
        until = next_local_midnight()
        log.error("WeChat daily send limit reached (45009): no WeChat sends until %s", until)
        flag = db.session.get(RuntimeFlag, DAILY_LIMIT_FLAG)
        if flag is None:
            db.session.add(RuntimeFlag(name=DAILY_LIMIT_FLAG, until=until, reason="45009"))
        else:
            flag.until = until
        db.session.flush()
    now = utcnow()
    for (status, errcode), ids in rows.items():
        set_status(ids, status, now, errcode=errcode)
    _refund(refunds)


def _refund(delivery_ids: list[int]) -> None:
    if delivery_ids:
        given_back = db.session.execute(
            sa.update(SubscriptionCredit)
            .where(among(SubscriptionCredit.spent_by, delivery_ids))
            .values(spent_at=None, spent_by=None)
        ).rowcount
        CREDITS.labels("refunded").inc(max(given_back or 0, 0))


def next_local_midnight() -> datetime:
    """The next local midnight: WeChat's daily quota resets then."""
    local = utcnow().astimezone(local_zone())
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

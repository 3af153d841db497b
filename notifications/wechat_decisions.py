"""Whether each WeChat delivery may go, decided for a whole batch in one transaction.

For each delivery, in order: the resident's opt-out, WeChat's daily limit (45009 stops sends
until local midnight), quiet hours and frequency caps for marketing kinds, the template's
field limits, and a subscription credit (one accepted prompt allows exactly one send).
A delivery that may go becomes `ready` with its credit spent; the sender claims it
(`sending`) just before its request. A handful of set-based statements decide hundreds of
deliveries: their residents are locked (in id order, so two deciders never deadlock and one
resident's deliveries are decided one batch at a time, which keeps caps true), opt-outs, caps
and credits are read per batch, and the outcome is written in a few statements.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from models import (
    Delivery,
    DeliveryStatus,
    NotificationOptOut,
    Resident,
    RuntimeFlag,
    SubscriptionCredit,
)
from models.base import utcnow
from notifications.fields import FieldRefused, wechat_data
from notifications.templates import MARKETING, get_kind
from service_hub.plumbing.extensions import db
from service_hub.plumbing.observability import CREDITS
from service_hub.plumbing.timefmt import local_zone

log = logging.getLogger(__name__)

DAILY_LIMIT_FLAG = "wechat_daily_limit"
# What counts toward a resident's marketing caps: sent, on the wire, or decided to go.
COUNTED = (DeliveryStatus.SENT, DeliveryStatus.SENDING, DeliveryStatus.READY)
DECIDABLE = (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED)


@dataclass(frozen=True)
class Message:
    """A ready delivery as WeChat will get it."""

    delivery_id: int
    attempts: int
    touser: str
    template_id: str
    data: dict
    page: str


def among(column, ids) -> sa.ColumnElement[bool]:
    """column IN ids; on PostgreSQL `= ANY(array)`: one parameter, so the statement's text
    (and its prepared plan) is the same for a chunk of any size."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.BigInteger)))
    return column.in_(list(ids))


def _quiet_window() -> tuple[time, time]:
    start, end = current_app.config["QUIET_HOURS"].split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def in_quiet_hours(moment: datetime) -> bool:
    """Whether a moment falls in the configured quiet hours (local time; may span midnight)."""
    start, end = _quiet_window()
    now = moment.astimezone(local_zone()).time()
    return (start <= now or now < end) if start > end else (start <= now < end)


def quiet_hours_end(moment: datetime) -> datetime:
    """When the quiet hours that contain `moment` end."""
    _, end = _quiet_window()
    local = moment.astimezone(local_zone())
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def daily_limit_active(now: datetime) -> bool:
    """Whether WeChat's daily send limit (45009) still stops sends."""
    return db.session.scalar(
        sa.select(sa.exists().where(RuntimeFlag.name == DAILY_LIMIT_FLAG, RuntimeFlag.until > now))
    )


def _recent_marketing(resident_ids: list[int], now: datetime) -> dict[int, list[int]]:
    """resident → [counted marketing deliveries in the last day, in the last week]."""
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    rows = db.session.execute(
        sa.select(
            Delivery.resident_id,
            sa.func.sum(sa.case((Delivery.updated_at >= day, 1), else_=0)),
            sa.func.count(),
        )
        .where(
            among(Delivery.resident_id, resident_ids),
            Delivery.urgency == MARKETING,
            Delivery.status.in_(COUNTED),
            Delivery.updated_at >= week,
        )
        .group_by(Delivery.resident_id)
    )
    return {rid: [int(daily or 0), int(weekly)] for rid, daily, weekly in rows}


def _available_credits(resident_ids: list[int], templates: set[str]) -> dict[tuple, list[int]]:
    """(resident, template) → unspent credit ids, oldest first (the caller holds the
    residents' locks, under which alone credits are spent)."""
    credits: dict[tuple, list[int]] = {}
    for credit_id, rid, template in db.session.execute(
        sa.select(
            SubscriptionCredit.id, SubscriptionCredit.resident_id, SubscriptionCredit.template_id
        )
        .where(
            among(SubscriptionCredit.resident_id, resident_ids),
            SubscriptionCredit.template_id.in_(templates),
            SubscriptionCredit.spent_at.is_(None),
        )
        .order_by(SubscriptionCredit.accepted_at, SubscriptionCredit.id)
    ):
        credits.setdefault((rid, template), []).append(credit_id)
    return credits


class _Rendered:
    """WeChat data and page per (kind, payload): a broadcast renders once, not per resident."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[dict, str] | None] = {}

    def __call__(self, kind_name: str, payload: dict, delivery_id: int) -> tuple[dict, str] | None:
        key = (kind_name, json.dumps(payload, sort_keys=True, ensure_ascii=False))
        if key not in self._cache:
            kind = get_kind(kind_name)
            try:
                self._cache[key] = (
                    wechat_data(kind.wechat_fields(payload)),
                    kind.render(payload)[2],
                )
            except (FieldRefused, KeyError) as exc:
                log.warning("delivery %s: template fields refused: %s", delivery_id, exc)
                self._cache[key] = None
        return self._cache[key]


def decide(delivery_ids: list[int]) -> tuple[dict[str, list[int]], list[Message]]:
    """Decide every queued or deferred delivery among `delivery_ids` and commit (with whatever
    the caller's transaction holds); returns the ids that got each status, and the messages of
    those now ready. Deliveries another worker is deciding are decided once: the second waits
    for the residents' locks, then finds them decided."""
    decidable = (among(Delivery.id, delivery_ids), Delivery.status.in_(DECIDABLE))
    # Every decision is taken under its resident's lock (taken in id order: no deadlock), so
    # what is read after it is the truth: no other decider can change these deliveries or
    # spend these residents' credits until we commit. FOR NO KEY UPDATE leaves inserts that
    # reference the resident (inbox rows, deliveries) free to proceed.
    openids = {}
    if delivery_ids:
        openids = dict(
            db.session.execute(
                sa.select(Resident.id, Resident.openid)
                .where(Resident.id.in_(sa.select(Delivery.resident_id).where(*decidable)))
                .order_by(Resident.id)
                .with_for_update(key_share=True)
            ).all()
        )
    if not openids:
        db.session.commit()
        return {}, []
    resident_ids = sorted(openids)
    rows = db.session.execute(
        sa.select(
            Delivery.id, Delivery.resident_id, Delivery.kind, Delivery.payload, Delivery.attempts
        )
        .where(*decidable)
        .order_by(Delivery.id)
    ).all()
    # One that became decidable after the first read (a retry) waits for a run holding its lock.
    rows = [row for row in rows if row.resident_id in openids]
    if not rows:
        db.session.commit()
        return {}, []
    now = utcnow()
    kinds = {row.kind: get_kind(row.kind) for row in rows}
    opted_out = set(
        db.session.execute(
            sa.select(NotificationOptOut.resident_id, NotificationOptOut.kind).where(
                among(NotificationOptOut.resident_id, resident_ids),
                NotificationOptOut.kind.in_(list(kinds)),
            )
        ).all()
    )
    blocked = daily_limit_active(now)
    quiet = in_quiet_hours(now)
    marketing = sorted({r.resident_id for r in rows if kinds[r.kind].urgency == MARKETING})
    recent = _recent_marketing(marketing, now) if marketing and not quiet else {}
    credits = _available_credits(resident_ids, {k.template_id for k in kinds.values()})
    config = current_app.config
    caps = (config["MARKETING_CAP_PER_DAY"], config["MARKETING_CAP_PER_WEEK"])
    rendered = _Rendered()
    spent, decided, messages = [], {}, []
    for row in rows:
        kind = kinds[row.kind]
        status, errcode = DeliveryStatus.READY, None
        if (row.resident_id, kind.name) in opted_out:
            status = DeliveryStatus.OPTED_OUT
        elif blocked:
            status = DeliveryStatus.BLOCKED_DAILY_LIMIT
        elif kind.urgency == MARKETING and quiet:
            status = DeliveryStatus.DEFERRED
        elif kind.urgency == MARKETING and any(
            n >= cap for n, cap in zip(recent.get(row.resident_id, [0, 0]), caps, strict=True)
        ):
            status = DeliveryStatus.CAPPED
        elif rendered(row.kind, row.payload, row.id) is None:
            status, errcode = DeliveryStatus.FAILED, 47003
        elif not credits.get((row.resident_id, kind.template_id)):
            status = DeliveryStatus.SKIPPED_NO_CREDIT
        else:
            credit_id = credits[(row.resident_id, kind.template_id)].pop(0)
            spent.append((credit_id, row.id))
            data, page = rendered(row.kind, row.payload, row.id)
            messages.append(
                Message(
                    row.id, row.attempts, openids[row.resident_id], kind.template_id, data, page
                )
            )
            if kind.urgency == MARKETING:
                sent = recent.setdefault(row.resident_id, [0, 0])
                sent[0], sent[1] = sent[0] + 1, sent[1] + 1
        decided.setdefault((status, errcode), []).append(row.id)
    spend_credits(spent, now)
    for (status, errcode), ids in decided.items():
        set_status(ids, status, now, errcode=errcode)
    db.session.commit()
    by_status: dict[str, list[int]] = {}
    for (status, _), ids in decided.items():
        by_status.setdefault(status, []).extend(ids)
    return by_status, messages


def set_status(delivery_ids: list[int], status: str, now: datetime, errcode=None) -> None:
    """One UPDATE for many deliveries that end in the same status (sent ones get sent_at)."""
    values = {"status": status, "errcode": errcode, "updated_at": now}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = now
    table = Delivery.__table__
    db.session.execute(sa.update(table).where(among(table.c.id, delivery_ids)).values(values))


_SPEND_ON_POSTGRESQL = sa.text(
    "UPDATE subscription_credit AS c SET spent_at = :now, spent_by = u.delivery_id"
    " FROM unnest(CAST(:credit_ids AS bigint[]), CAST(:delivery_ids AS bigint[]))"
    " AS u(credit_id, delivery_id) WHERE c.id = u.credit_id"
)


def spend_credits(spent: list[tuple[int, int]], now: datetime) -> None:
    """Mark each (credit, delivery) pair spent: one statement on PostgreSQL."""
    if not spent:
        return
    CREDITS.labels("spent").inc(len(spent))
    if db.session.get_bind().dialect.name == "postgresql":
        credit_ids, delivery_ids = (list(column) for column in zip(*spent, strict=True))
        db.session.execute(
            _SPEND_ON_POSTGRESQL,
            {"now": now, "credit_ids": credit_ids, "delivery_ids": delivery_ids},
        )
        return
    table = SubscriptionCredit.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("credit_id"))
        .values(spent_at=now, spent_by=sa.bindparam("delivery_id")),
        [{"credit_id": c, "delivery_id": d} for c, d in spent],
    )


def ready_messages(delivery_ids: list[int]) -> list[Message]:
    """The ready deliveries among `delivery_ids`, as WeChat will get them, in id order."""
    rows = db.session.execute(
        sa.select(Delivery.id, Delivery.kind, Delivery.payload, Delivery.attempts, Resident.openid)
        .join(Resident, Resident.id == Delivery.resident_id)
        .where(among(Delivery.id, delivery_ids), Delivery.status == DeliveryStatus.READY)
        .order_by(Delivery.id)
    ).all()
    db.session.commit()  # read only: end the transaction before the network
    rendered = _Rendered()
    messages = []
    for row in rows:
        data_page = rendered(row.kind, row.payload, row.id)
        if data_page is not None:  # it fitted when decided; templates do not change under it
            messages.append(
                Message(
                    row.id, row.attempts, row.openid, get_kind(row.kind).template_id, *data_page
                )
            )
    return messages

"""The WeChat subscribe-message channel: one delivery row per (resident, kind, event),
decided and sent at most once.

For each delivery, in order: the resident's opt-out, WeChat's daily limit (45009 stops sends
until local midnight), quiet hours and frequency caps for marketing kinds, the template's
field limits, and a subscription credit (one accepted prompt allows exactly one send). The
decision and the credit are committed before the HTTP call and the outcome after it; no
transaction is held while WeChat answers. A delivery interrupted mid-send is never re-sent
(WeChat has no idempotency key): the reconciler marks it failed. Transient WeChat errors are
retried with backoff; permanent ones are not.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

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
from service_hub.plumbing.jobqueue import job_queue
from service_hub.plumbing.sql import dialect_insert
from service_hub.plumbing.timefmt import local_zone
from service_hub.wechat.access_token import access_token_provider
from service_hub.wechat.client import WeChatError

log = logging.getLogger(__name__)

DAILY_LIMIT_FLAG = "wechat_daily_limit"
NO_REFUND = {43101}  # WeChat consumed (or never had) the user's acceptance


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
    now = utcnow()
    rows = [
        {
            "resident_id": rid,
            "kind": kind,
            "event_key": event_key,
            "payload": payload,
            "broadcast_id": broadcast_id,
            "urgency": get_kind(kind).urgency,
            "status": DeliveryStatus.QUEUED,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for rid in resident_ids
    ]
    stmt = (
        dialect_insert()(Delivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["resident_id", "kind", "event_key"])
        .returning(Delivery.id)
    )
    return list(db.session.scalars(stmt))


def send(delivery_ids: list[int]) -> dict[str, int]:
    """Job: decide and send each delivery; returns how many ended in each status."""
    outcomes: dict[str, int] = {}
    deferred: list[int] = []
    for delivery_id in delivery_ids:
        status = _send_one(delivery_id)
        outcomes[status] = outcomes.get(status, 0) + 1
        if status == DeliveryStatus.DEFERRED:
            deferred.append(delivery_id)
    if deferred:
        delay = quiet_hours_end(utcnow()) - utcnow()
        job_queue().enqueue_in("notifications", delay, send, deferred)
    return outcomes


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


def _daily_limit_active(now: datetime) -> bool:
    return db.session.scalar(
        sa.select(sa.exists().where(RuntimeFlag.name == DAILY_LIMIT_FLAG, RuntimeFlag.until > now))
    )


def _capped(resident_id: int, now: datetime) -> bool:
    def sent_since(since: datetime) -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).where(
                Delivery.resident_id == resident_id,
                Delivery.urgency == MARKETING,
                Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.SENDING)),
                Delivery.updated_at >= since,
            )
        )

    config = current_app.config
    return (
        sent_since(now - timedelta(days=1)) >= config["MARKETING_CAP_PER_DAY"]
        or sent_since(now - timedelta(days=7)) >= config["MARKETING_CAP_PER_WEEK"]
    )


def _spend_credit(resident_id: int, template_id: str, delivery_id: int) -> int | None:
    credit_id = db.session.scalar(
        sa.select(SubscriptionCredit.id)
        .where(
            SubscriptionCredit.resident_id == resident_id,
            SubscriptionCredit.template_id == template_id,
            SubscriptionCredit.spent_at.is_(None),
        )
        .order_by(SubscriptionCredit.accepted_at, SubscriptionCredit.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if credit_id is None:
        return None
    db.session.execute(
        sa.update(SubscriptionCredit)
        .where(SubscriptionCredit.id == credit_id)
        .values(spent_at=utcnow(), spent_by=delivery_id)
    )
    return credit_id


def _refund(delivery_id: int) -> None:
    db.session.execute(
        sa.update(SubscriptionCredit)
        .where(SubscriptionCredit.spent_by == delivery_id)
        .values(spent_at=None, spent_by=None)
    )


def _decide(delivery_id: int) -> tuple[str, dict | None]:
    """Lock the delivery and its resident, and decide; commits the decision."""
    delivery = db.session.scalar(
        sa.select(Delivery)
        .where(Delivery.id == delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None or delivery.status not in (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED):
        db.session.rollback()
        return (delivery.status if delivery else "missing"), None
    # One resident's deliveries are decided one at a time, so caps hold under concurrency.
    resident = db.session.scalar(
        sa.select(Resident).where(Resident.id == delivery.resident_id).with_for_update()
    )
    kind, now = get_kind(delivery.kind), utcnow()
    status, message = DeliveryStatus.SENDING, None
    opted_out = db.session.scalar(
        sa.select(
            sa.exists().where(
                NotificationOptOut.resident_id == resident.id, NotificationOptOut.kind == kind.name
            )
        )
    )
    if opted_out:
        status = DeliveryStatus.OPTED_OUT
    elif _daily_limit_active(now):
        status = DeliveryStatus.BLOCKED_DAILY_LIMIT
    elif kind.urgency == MARKETING and in_quiet_hours(now):
        status = DeliveryStatus.DEFERRED
    elif kind.urgency == MARKETING and _capped(resident.id, now):
        status = DeliveryStatus.CAPPED
    else:
        try:
            data = wechat_data(kind.wechat_fields(delivery.payload))
        except (FieldRefused, KeyError) as exc:
            log.warning("delivery %s: template fields refused: %s", delivery_id, exc)
            status, delivery.errcode = DeliveryStatus.FAILED, 47003
        else:
            if _spend_credit(resident.id, kind.template_id, delivery.id) is None:
                status = DeliveryStatus.SKIPPED_NO_CREDIT
            else:
                delivery.attempts += 1
                message = {
                    "touser": resident.openid,
                    "template_id": kind.template_id,
                    "data": data,
                    "page": kind.render(delivery.payload)[2],
                }
    delivery.status = status
    db.session.commit()
    return status, message


def _finish(
    delivery_id: int, status: str, errcode: int | None = None, refund: bool = False
) -> None:
    values = {"status": status, "errcode": errcode, "updated_at": utcnow()}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = utcnow()
    if refund:
        _refund(delivery_id)
    db.session.execute(sa.update(Delivery).where(Delivery.id == delivery_id).values(values))
    db.session.commit()


def _send_one(delivery_id: int) -> str:
    status, message = _decide(delivery_id)
    if message is None:
        return status
    provider = access_token_provider()
    try:
        provider.call_with_token(
            lambda token: provider.client.send_subscribe_message(
                token,
                message["touser"],
                message["template_id"],
                message["data"],
                page=message["page"],
                miniprogram_state=current_app.config["MINIPROGRAM_STATE"],
            )
        )
    except WeChatError as error:
        return _on_error(delivery_id, error)
    _finish(delivery_id, DeliveryStatus.SENT)
    return DeliveryStatus.SENT


def _on_error(delivery_id: int, error: WeChatError) -> str:
    if error.errcode == 45009:
        until = next_local_midnight()
        log.error("WeChat daily send limit reached (45009): no WeChat sends until %s", until)
        flag = db.session.get(RuntimeFlag, DAILY_LIMIT_FLAG)
        if flag is None:
            db.session.add(RuntimeFlag(name=DAILY_LIMIT_FLAG, until=until, reason="45009"))
        else:
            flag.until = until
        _finish(delivery_id, DeliveryStatus.BLOCKED_DAILY_LIMIT, 45009, refund=True)
        return DeliveryStatus.BLOCKED_DAILY_LIMIT
    attempts = db.session.scalar(sa.select(Delivery.attempts).where(Delivery.id == delivery_id))
    if error.transient and attempts < current_app.config["WECHAT_SEND_RETRIES"]:
        _finish(delivery_id, DeliveryStatus.QUEUED, error.errcode, refund=True)
        job_queue().enqueue_in(
            "notifications", timedelta(seconds=5 * 2**attempts), send, [delivery_id]
        )
        return DeliveryStatus.QUEUED
    _finish(
        delivery_id, DeliveryStatus.FAILED, error.errcode, refund=error.errcode not in NO_REFUND
    )
    return DeliveryStatus.FAILED


def next_local_midnight() -> datetime:
    """The next local midnight: WeChat's daily quota resets then."""
    local = utcnow().astimezone(local_zone())
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

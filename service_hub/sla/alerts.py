"""Staff alerts: raised once per thing they are about, read by the managers whose region
includes the order's community (and admins), each reader keeping their own read state.

Managers have no WeChat channel: subscribe messages go to mini-program users (residents, by
openid, one credit per accepted prompt) and staff sign in with a password, so the alert inbox
(GET /staff/alerts) is where they hear of it (docs/sla.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from models import Community, SlaStep, StaffAlert, StaffAlertKind, StaffAlertRead
from models.base import UTCDateTime, utcnow
from service_hub.auth.regions import region_clause
from service_hub.auth.tokens import Principal
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import dialect_insert, insert_ignoring_duplicates
from service_hub.plumbing.timefmt import local_datetime_text

# Alerts older than this leave the list (and the unread count): it stays one indexed range.
RECENT = timedelta(days=30)
# The unread count stops counting here (shown as "999+" or so): it is a badge, not a report.
UNREAD_CAP = 1000
STEP_ZH = {SlaStep.ACCEPT: "接单", SlaStep.ARRIVE: "上门", SlaStep.COMPLETE: "完工"}


def breach_alert(order_id: int, community_id: int, step: str, due: datetime) -> dict:
    """The alert row for an order that missed a step's deadline."""
    return {
        "kind": StaffAlertKind.SLA_BREACHED,
        "order_id": order_id,
        "community_id": community_id,
        "text": f"工单{order_id}{STEP_ZH[step]}超时（时限{local_datetime_text(due)}）",
        "dedupe_key": f"order:{order_id}:breach:{step}",
    }


def unassigned_alert(order_id: int, community_id: int, due: datetime) -> dict:
    """The alert row for an order nobody can take whose acceptance deadline is near."""
    return {
        "kind": StaffAlertKind.UNASSIGNED_AT_RISK,
        "order_id": order_id,
        "community_id": community_id,
        "text": f"工单{order_id}无人接单，将于{local_datetime_text(due)}超出接单时限，请手动派单",
        "dedupe_key": f"order:{order_id}:unassigned_at_risk",
    }


def raise_alerts(rows: list[dict], now: datetime) -> int:
    """Store alerts in the caller's transaction; one already raised is not raised again."""
    return insert_ignoring_duplicates(
        StaffAlert, [{**row, "created_at": now} for row in rows], ["dedupe_key"]
    )


def _visible(principal: Principal) -> sa.Select:
    return (
        sa.select(StaffAlert.id)
        .join(Community, Community.id == StaffAlert.community_id)
        .where(region_clause(principal), StaffAlert.created_at >= utcnow() - RECENT)
    )


def _read_by(principal: Principal) -> sa.Exists:
    return sa.exists().where(
        StaffAlertRead.alert_id == StaffAlert.id, StaffAlertRead.staff_user_id == principal.id
    )


def alerts_query(principal: Principal, unread_only: bool = False) -> sa.Select:
    """The caller's alerts of the last RECENT days, newest first: (alert, community name,
    read by the caller)."""
    read = _read_by(principal)
    stmt = (
        sa.select(StaffAlert, Community.name, read.label("read"))
        .join(Community, Community.id == StaffAlert.community_id)
        .where(region_clause(principal), StaffAlert.created_at >= utcnow() - RECENT)
        .order_by(StaffAlert.created_at.desc(), StaffAlert.id.desc())
    )
    return stmt.where(~read) if unread_only else stmt


def unread_count(principal: Principal) -> int:
    """How many of the caller's alerts they have not read (at most UNREAD_CAP)."""
    unread = _visible(principal).where(~_read_by(principal)).limit(UNREAD_CAP).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(unread))


def mark_read(principal: Principal, ids: list[int] | None) -> int:
    """Mark the caller's alerts read (those named, or all); returns how many were unread.
    Alerts the caller may not see are left alone, as if they did not exist."""
    chosen = _visible(principal).where(~_read_by(principal))
    if ids is not None:
        chosen = chosen.where(StaffAlert.id.in_(ids))
    rows = chosen.add_columns(
        sa.literal(principal.id).label("staff_user_id"),
        sa.literal(utcnow(), UTCDateTime()).label("read_at"),
    )
    stmt = (
        dialect_insert()(StaffAlertRead)
        .from_select(["alert_id", "staff_user_id", "read_at"], rows)
        .on_conflict_do_nothing(index_elements=["staff_user_id", "alert_id"])
    )
    marked = len(db.session.execute(stmt.returning(StaffAlertRead.id)).all())
    db.session.commit()
    return marked

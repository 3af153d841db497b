"""The periodic SLA check (every minute, service_hub/wiring.py): finds orders whose step is
breached or at risk, and acts.

Each step's query reads only the orders at that step near or past their deadline, through
the step's partial deadline index (models/order.py), so it costs the same at a million orders
as at a thousand. Rows are locked with SKIP LOCKED: an order being changed right now is left
to its own transition (`tracking.track`) or the next run. Per run and step at most BATCH
orders; a backlog drains over the next runs.

What it does:
- breached: recorded once per order step (`record_breaches`: KPIs, staff alert), the order
  marked breached;
- at risk: the order marked at risk; an order whose offer is still unanswered has that offer
  expired now and goes to the next engineer (`dispatch.assignment.expire_early`, through the
  lifecycle), once, when it becomes at risk;
- unassigned (nobody could take it) and at risk: the region's managers are alerted, once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from dispatch.assignment import expire_early
from models import OrderStatus, ServiceOrder, ServiceType, SlaBreach, SlaState, SlaStep
from models.base import utcnow
from models.order import in_sla_step
from service_hub.plumbing.extensions import db
from service_hub.plumbing.observability import SLA_BREACHES
from service_hub.plumbing.sql import retry_transient
from service_hub.sla.alerts import raise_alerts, unassigned_alert
from service_hub.sla.deadlines import DUE_COLUMNS, TARGETS, risk_margin, state_of
from service_hub.sla.tracking import record_breaches

BATCH = 1000


def _due(step: SlaStep):
    return getattr(ServiceOrder, DUE_COLUMNS[step])


def _target(step: SlaStep):
    return getattr(ServiceType, TARGETS[step])


def _breached(step: SlaStep, now: datetime) -> int:
    """Orders still at the step after its deadline with no breach recorded for it."""
    due = _due(step)
    recorded = sa.exists().where(SlaBreach.order_id == ServiceOrder.id, SlaBreach.step == step)
    late = db.session.execute(
        sa.select(ServiceOrder.id, ServiceOrder.community_id, ServiceOrder.engineer_id, due)
        .where(in_sla_step(step), due < now, ~recorded)
        .order_by(due)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    new = record_breaches(step, [tuple(row) for row in late], now)
    if new:
        db.session.execute(
            sa.update(ServiceOrder)
            .where(ServiceOrder.id.in_(new))
            .values(
                sla_state=SlaState.BREACHED,
                sla_breached_at=sa.func.coalesce(ServiceOrder.sla_breached_at, now),
            )
            .execution_options(synchronize_session=False)
        )
    return len(new)


def _horizon(step: SlaStep, now: datetime) -> datetime | None:
    """The latest deadline any service type's order at this step may be at risk with now."""
    longest = db.session.scalar(sa.select(sa.func.max(_target(step))))
    return None if longest is None else now + risk_margin(longest)


def _at_risk(step: SlaStep, now: datetime) -> list[tuple[int, str]]:
    """Orders on track whose step is now at risk, marked so; returns (id, status) of each."""
    horizon = _horizon(step, now)
    if horizon is None:
        return []
    due = _due(step)
    near = db.session.execute(
        sa.select(ServiceOrder.id, ServiceOrder.status, due, _target(step))
        .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
        .where(
            in_sla_step(step),
            due >= now,
            due <= horizon,
            ServiceOrder.sla_state == SlaState.ON_TRACK,
        )
        .order_by(due)
        .limit(BATCH)
        .with_for_update(of=ServiceOrder, skip_locked=True)
    ).all()
    risky = [
        (i, status) for i, status, d, target in near if state_of(d, target, now) == SlaState.AT_RISK
    ]
    if risky:
        db.session.execute(
            sa.update(ServiceOrder)
            .where(ServiceOrder.id.in_([i for i, _ in risky]))
            .values(sla_state=SlaState.AT_RISK)
            .execution_options(synchronize_session=False)
        )
    return risky


def _alert_unassigned(now: datetime) -> int:
    """Unassigned orders whose acceptance deadline is near: the managers must assign them."""
    horizon = _horizon(SlaStep.ACCEPT, now)
    if horizon is None:
        return 0
    due = _due(SlaStep.ACCEPT)
    rows = db.session.execute(
        sa.select(ServiceOrder.id, ServiceOrder.community_id, due)
        .where(
            in_sla_step(SlaStep.ACCEPT),
            ServiceOrder.status == OrderStatus.UNASSIGNED,
            due >= now,
            due <= horizon,
        )
        .order_by(due)
        .limit(BATCH)
    ).all()
    return raise_alerts([unassigned_alert(*row) for row in rows], now)


@retry_transient
def _mark(now: datetime) -> tuple[dict[str, int], list[int]]:
    counts = {"breached": 0, "at_risk": 0, "alerted_unassigned": 0}
    unanswered: list[int] = []
    for step in SlaStep:
        counts["breached"] += _breached(step, now)
        risky = _at_risk(step, now)
        counts["at_risk"] += len(risky)
        unanswered += [i for i, status in risky if status == OrderStatus.OFFERED]
    counts["alerted_unassigned"] = _alert_unassigned(now)
    db.session.commit()
    return counts, unanswered


def check_promises(now: datetime | None = None) -> dict[str, int]:
    """Job: mark breached and at-risk orders (one transaction), then pass each newly at-risk
    order whose offer is unanswered to the next engineer (one transaction each)."""
    counts, unanswered = _mark(now or utcnow())
    SLA_BREACHES.inc(counts["breached"])
    why = "accept deadline near: offer expired early"
    counts["redispatched"] = sum(1 for order_id in unanswered if expire_early(order_id, why))
    return counts

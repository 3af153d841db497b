"""An order's promise as it moves: deadlines and SLA state kept current at every step, and
each breach recorded once per order step, counted in the KPIs and raised to the managers.

`track` is a hook of the order lifecycle (EVENT_HOOKS, registered in service_hub/wiring.py):
it runs in the transaction of every timeline event, on the locked order. The periodic check
(service_hub/sla/checks.py) records the breaches of orders that do not move, through the same
`record_breaches`, so whichever sees a breach first records it and the other finds it there.
"""

from __future__ import annotations

from datetime import datetime

from models import OrderEvent, ServiceOrder, ServiceType, SlaBreach, SlaStep
from service_hub.kpis.rollup import count_breaches
from service_hub.plumbing.extensions import db
from service_hub.plumbing.sql import dialect_insert
from service_hub.sla.alerts import breach_alert, raise_alerts
from service_hub.sla.deadlines import DUE_COLUMNS, deadlines, order_state, step_of


def record_breaches(
    step: SlaStep, late: list[tuple[int, int, int | None, datetime]], now: datetime
) -> list[int]:
    """Record that these orders (order id, community id, engineer id, deadline) missed the
    step's deadline; a breach recorded before is not recorded again (unique per order and
    step). New breaches are counted in the monthly KPIs (community; engineer for arrive and
    complete: acceptance is dispatch's) and alerted to the region's managers. Returns the
    orders newly breached; the caller holds their locks and sets their SLA state."""
    if not late:
        return []
    rows = [
        {
            "order_id": order_id,
            "step": step,
            "community_id": community_id,
            "engineer_id": None if step == SlaStep.ACCEPT else engineer_id,
            "due_at": due,
            "breached_at": now,
        }
        for order_id, community_id, engineer_id, due in late
    ]
    stmt = (
        dialect_insert()(SlaBreach)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["order_id", "step"])
        .returning(
            SlaBreach.order_id,
            SlaBreach.community_id,
            SlaBreach.engineer_id,
            SlaBreach.due_at,
            SlaBreach.breached_at,
        )
    )
    new = db.session.execute(stmt).all()
    count_breaches(new)
    raise_alerts([breach_alert(b.order_id, b.community_id, step, b.due_at) for b in new], now)
    return [b.order_id for b in new]


def _breach_if_late(order: ServiceOrder, step: SlaStep | None, now: datetime) -> None:
    if step is None:
        return
    due = getattr(order, DUE_COLUMNS[step])
    if due is None or now <= due:
        return
    late = [(order.id, order.community_id, order.engineer_id, due)]
    if record_breaches(step, late, now) and order.sla_breached_at is None:
        order.sla_breached_at = now


def track(event: OrderEvent, order: ServiceOrder) -> None:
    """Lifecycle hook: the step the order was at is breached if its deadline had passed by
    this event (it left the step late, or moved while late); deadlines follow the order's
    facts (created, window, accepted, started); a step it enters already late is breached;
    then its SLA state is set for now."""
    now = event.at
    service_type = db.session.get(ServiceType, order.service_type_id)
    before = step_of(event.from_status)
    _breach_if_late(order, before, now)
    for column, due in deadlines(order, service_type).items():
        if getattr(order, column) != due:
            setattr(order, column, due)
    after = step_of(order.status)
    if after != before:
        _breach_if_late(order, after, now)
    state = order_state(order, service_type, now)
    if order.sla_state != state:
        order.sla_state = state

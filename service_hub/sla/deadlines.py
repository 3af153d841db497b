"""The SLA rule, in one place: an order's deadlines from its service type's targets, and
whether the step it is at is on track, at risk or breached (docs/sla.md).

Each step has a target in minutes on the service type (None: no promise on that step):
- accept: `accept_due_at` = created_at + sla_accept_minutes;
- arrive: `arrive_due_at` = window_start + sla_arrive_minutes, or, for an order without a
  window, accepted_at + sla_arrive_minutes (unknown until it is accepted);
- complete: `complete_due_at` = started_at + sla_complete_minutes.
Deadlines are facts of the order, so they move when its window moves (reschedule, an accepted
proposal) and are set as its steps happen.

A step is at risk once AT_RISK_SHARE of its target is all that is left, or fewer than
AT_RISK_MINUTES, whichever comes first; breached once its deadline has passed. An order that
breached any step stays breached (`sla_breached_at` says since when).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models import ServiceOrder, ServiceType, SlaState, SlaStep
from models.order import SLA_STEP_STATUSES

AT_RISK_SHARE = 0.2  # at risk once 80 % of a step's target has elapsed …
AT_RISK_MINUTES = 10  # … or fewer than 10 minutes are left, whichever comes first

# step → the service type's target (minutes) and the order's deadline column
TARGETS = {
    SlaStep.ACCEPT: "sla_accept_minutes",
    SlaStep.ARRIVE: "sla_arrive_minutes",
    SlaStep.COMPLETE: "sla_complete_minutes",
}
DUE_COLUMNS = {step: f"{step}_due_at" for step in SlaStep}
STEP_OF_STATUS = {
    status: step for step, statuses in SLA_STEP_STATUSES.items() for status in statuses
}


def step_of(status: str | None) -> SlaStep | None:
    """The step an order in this status is at (None: no step, e.g. completed or cancelled)."""
    return STEP_OF_STATUS.get(status)


def _after(moment: datetime | None, minutes: int | None) -> datetime | None:
    if moment is None or minutes is None:
        return None
    return moment + timedelta(minutes=minutes)


def deadlines(order: ServiceOrder, service_type: ServiceType) -> dict[str, datetime | None]:
    """The order's deadline per step, from its facts and its service type's targets."""
    arrive_from = order.window_start or order.accepted_at
    return {
        DUE_COLUMNS[SlaStep.ACCEPT]: _after(order.created_at, service_type.sla_accept_minutes),
        DUE_COLUMNS[SlaStep.ARRIVE]: _after(arrive_from, service_type.sla_arrive_minutes),
        DUE_COLUMNS[SlaStep.COMPLETE]: _after(order.started_at, service_type.sla_complete_minutes),
    }


def risk_margin(target_minutes: int) -> timedelta:
    """How long before its deadline a step with this target is at risk."""
    return timedelta(minutes=max(target_minutes * AT_RISK_SHARE, AT_RISK_MINUTES))


def state_of(due: datetime | None, target_minutes: int | None, now: datetime) -> SlaState:
    """The state of one step with this deadline and target at `now`."""
    if due is None or target_minutes is None:
        return SlaState.ON_TRACK
    if now > due:
        return SlaState.BREACHED
    if now >= due - risk_margin(target_minutes):
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


def order_state(order: ServiceOrder, service_type: ServiceType, now: datetime) -> SlaState:
    """The order's state: breached if it ever breached, else its current step's state."""
    if order.sla_breached_at is not None:
        return SlaState.BREACHED
    step = step_of(order.status)
    if step is None:
        return SlaState.ON_TRACK
    due = getattr(order, DUE_COLUMNS[step])
    return state_of(due, getattr(service_type, TARGETS[step]), now)

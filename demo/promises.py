"""Promises kept (SLA) in the demo city: every order's deadlines and state at the demo's
"now" by the live rule (service_hub/sla/deadlines.py), urges (催单) when the engineer is late,
each missed step recorded once (sla_breach, which the KPI rebuild counts per community and
engineer), and the alerts the managers' inbox shows for the recent ones.

A step left after its deadline was breached when the live code saw it: the periodic check,
within a minute of the deadline, or the lifecycle hook, at the event that left it late.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from demo import names
from models import SlaBreach, SlaState, SlaStep, StaffAlert
from service_hub.plumbing.extensions import db
from service_hub.sla.alerts import breach_alert, unassigned_alert
from service_hub.sla.deadlines import DUE_COLUMNS, TARGETS, deadlines, state_of, step_of

# A resident whose engineer is this late may urge (as the live rate limit allows, once here).
URGE_AFTER, URGE_CHANCE = timedelta(minutes=15), 0.15
CHECK_EVERY = 60  # seconds: the periodic SLA check's period (service_hub/wiring.py)
# Alerts the managers' inbox shows: breaches of the last days (older ones were dealt with).
ALERT_DAYS = 2
# Columns of issue 14 that only some orders set; every order row carries them all.
FIELD_DEFAULTS = {
    "unassigned_reason": None, "started_at": None, "urge_count": 0, "last_urged_at": None,
    "reschedule_count": 0, "proposed_window_start": None, "proposed_window_end": None,
    "preferred_engineer_id": None,
}  # fmt: skip
# When each step is done (left on time or late), by the order column stamped then.
DONE = {SlaStep.ACCEPT: "accepted_at", SlaStep.ARRIVE: "started_at",
        SlaStep.COMPLETE: "completed_at"}  # fmt: skip


def keep_promises(plans: list[tuple], services: list[dict], now: datetime, seed: int) -> None:
    """Set every order's SLA columns (and urge counts) in the plans, urging some late
    arrivals first; each order's missed steps go to its "_breaches" note."""
    rng, by_id = random.Random(f"{seed}-promises"), {s["id"]: s for s in services}
    for order, events, *_ in plans:
        for column, value in FIELD_DEFAULTS.items():
            order.setdefault(column, value)
        started = next((event[5] for event in events if event[0] == "start"), None)
        order["started_at"] = started
        _urge_if_late(order, events, started, rng)
        urges = [event[5] for event in events if event[0] == "urge"]
        order.update(urge_count=len(urges), last_urged_at=urges[-1] if urges else None)
        _deadlines(order, events, by_id[order["service_type_id"]], now, rng)


def _urge_if_late(order: dict, events: list[tuple], started: datetime | None, rng) -> None:
    window = order["window_start"]
    if not window or not started or started <= window + URGE_AFTER:
        return
    if any(event[0] == "urge" for event in events) or rng.random() >= URGE_CHANCE:
        return
    n = next(i for i, event in enumerate(events) if event[0] == "start")
    at = window + (started - window) * rng.uniform(0.5, 0.9)
    if at <= events[n - 1][5]:
        return
    status = events[n - 1][4]
    note = rng.choice(names.URGE_NOTES)
    events.insert(n, ("urge", "resident", order["resident_id"], status, status, at, note))


def _deadlines(order: dict, events: list[tuple], service: dict, now: datetime, rng) -> None:
    order.update(deadlines(SimpleNamespace(**order), SimpleNamespace(**service)))
    ended = None if step_of(order["status"]) else events[-1][5]  # completed or cancelled
    breaches = []
    for step in SlaStep:
        due = order[DUE_COLUMNS[step]]
        left = order[DONE[step]] or ended or now  # when the order left the step (or now)
        if due is None or left <= due:
            continue
        seen = min(due + rng.uniform(5, CHECK_EVERY) * timedelta(seconds=1), left)
        engineer = None if step == SlaStep.ACCEPT else order["engineer_id"]
        breaches.append((step, due, seen, engineer))
    step, state = step_of(order["status"]), SlaState.ON_TRACK
    if breaches:
        state = SlaState.BREACHED
    elif step is not None:
        state = state_of(order[DUE_COLUMNS[step]], service[TARGETS[step]], now)
    order.update(sla_state=state, _breaches=breaches,
                 sla_breached_at=min((b[2] for b in breaches), default=None))  # fmt: skip


def record_breaches(plans: list[tuple], now: datetime) -> dict[str, int]:
    """Insert the breaches (orders have ids now), and the alerts of the last ALERT_DAYS and
    of unassigned orders at risk, as the live check raises them; returns the counts."""
    breaches, alerts, since = [], [], now - timedelta(days=ALERT_DAYS)
    for order, *_ in plans:
        for step, due_at, breached_at, engineer_id in order["_breaches"]:
            breaches.append({"order_id": order["id"], "step": step,
                             "community_id": order["community_id"], "engineer_id": engineer_id,
                             "due_at": due_at, "breached_at": breached_at})  # fmt: skip
            if breached_at >= since:
                alert = breach_alert(order["id"], order["community_id"], step, due_at)
                alerts.append({**alert, "created_at": breached_at})
        if order["status"] == "unassigned" and order["sla_state"] == SlaState.AT_RISK:
            alert = unassigned_alert(order["id"], order["community_id"], order["accept_due_at"])
            alerts.append({**alert, "created_at": order["updated_at"]})
    for model, rows in ((SlaBreach, breaches), (StaffAlert, alerts)):
        for start in range(0, len(rows), 1000):
            db.session.execute(sa.insert(model), rows[start : start + 1000])
    return {"sla_breaches": len(breaches), "staff_alerts": len(alerts)}

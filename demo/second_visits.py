"""Second visits (二次上门) in the demo city: completed repairs the first visit did not fix.

Through the year, a few repairs (more after a complaint or a low rating) get a second visit;
and the newest untroubled repair of the last two weeks gets a complaint and a second visit
open now. As the live code does it (service_hub/sla/second_visits.py): the first order's
timeline records `second_visit` (by its engineer, or after a complaint by a manager), and the
new order, created by the system with the same resident, community, service and door, goes
straight to the same engineer (`revisit`).
"""

from __future__ import annotations

from datetime import timedelta

from demo import names
from demo.live_orders import HOUR, MINUTE, SECOND, SYSTEM, Draft, LiveOrders

REPAIRS = ("aircon_repair", "heater_repair", "appliance_repair")
# Chance that a completed repair gets a second visit: after a complaint or a low rating, and not.
REVISIT_AFTER_COMPLAINT, REVISIT_OTHERWISE = 0.5, 0.03


def second_visits(live: LiveOrders, plans: list[tuple]) -> list[tuple]:
    """Completed repairs that needed a second visit through the year (after a complaint or
    a low rating more often), and one asked for after a recent complaint, open now."""
    repairs = {live.by_code[code]["id"] for code in REPAIRS if code in live.by_code}
    children, latest, recent = [], None, live.now - timedelta(days=14)
    for plan in plans:
        order, review = plan[0], plan[4]
        if order["status"] != "completed" or order["service_type_id"] not in repairs:
            continue
        if order["completed_at"] >= recent:  # the newest untroubled one, for now
            newest = latest is None or order["completed_at"] > latest[0]["completed_at"]
            if newest and not order["complaint"] and plan[1][-1][5] < live.now - 4 * HOUR:
                latest = plan
            continue
        unhappy = order["complaint"] or (review and review["rating"] <= 2)
        if live.rng.random() < (REVISIT_AFTER_COMPLAINT if unhappy else REVISIT_OTHERWISE):
            children += [child] if (child := _second_visit(live, plan)) else []
    if latest is not None:
        _complain(live, latest, names.COMPLAINTS[1])
        children += [child] if (child := _second_visit(live, latest, open_now=True)) else []
    return children


def _complain(live: LiveOrders, plan: tuple, text: str) -> None:
    order, events = plan[0], plan[1]
    at = min(order["completed_at"] + live.rng.uniform(3, 20) * HOUR, live.now - 3 * HOUR)
    at = max(at, events[-1][5] + MINUTE)
    events.append(("complain", "resident", order["resident_id"], "completed", "completed",
                   at, text))  # fmt: skip
    order["complaint"], order["updated_at"] = text, at


def _second_visit(live: LiveOrders, plan: tuple, open_now: bool = False) -> tuple | None:
    """The first order's engineer (or, after a complaint, a manager) asks for a second
    visit; the new order goes straight to that engineer (the lifecycle's `second_visit`,
    then `create` and `revisit` by the system). None when it cannot be now."""
    order, events = plan[0], plan[1]
    e = live.engineer_index[order["engineer_id"]]
    c = live.community_index[order["community_id"]]
    service = live.by_id[order["service_type_id"]]
    if order["complaint"]:
        actor, reason = ("manager", live.manager_id), names.SECOND_VISIT_REASONS[2]
        at = events[-1][5] + live.rng.uniform(0.5, 6) * HOUR
    else:
        actor = ("engineer", order["engineer_id"])
        reason = live.rng.choice(names.SECOND_VISIT_REASONS[:2])
        at = events[-1][5] + live.rng.uniform(2, 30) * MINUTE
    if open_now:
        at = max(min(at, live.now - 20 * MINUTE), events[-1][5] + MINUTE)
    window = live.tomorrow(13) if open_now else live.history.window(at)
    begin = window[0] + live.rng.uniform(-10, 20) * MINUTE
    took = service["duration_minutes"] * live.rng.uniform(0.6, 1.2) * MINUTE
    steps = {"en_route": window[0] - live.rng.uniform(15, 40) * MINUTE,
             "start": begin, "done": begin + took}  # fmt: skip
    steps = {step: moment for step, moment in steps.items() if moment <= live.now}
    busy = "done" not in steps and live.load(e) >= live.history.max_open
    if at > live.now - 10 * MINUTE or busy:
        return None
    events.append(("second_visit", *actor, "completed", "completed", at, reason))
    order["updated_at"] = at
    draft = Draft(live, c, service, order["resident_id"], at + SECOND, SYSTEM)
    draft.columns.update(source="proactive", preferred_engineer_id=order["engineer_id"])
    draft.step("revisit", SYSTEM, "accepted", at + 2 * SECOND, reason)
    draft.assign(e, at + 2 * SECOND)
    draft.window = window
    draft.work(**steps)
    child = draft.plan(description=reason)
    child[0]["_parent"] = order  # same door: demo.addresses copies the first's snapshot
    return child

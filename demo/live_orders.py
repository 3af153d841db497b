"""The orders a newcomer's first look needs at the demo's "now".

On top of the year of history (`demo.history`): orders waiting in every queue of the
managers' console (unassigned, offers about to expire, late, urged, rescheduled, a window
proposed by the engineer), and the demo engineer's (`engineer1`) offer, accepted order and
urged order. Each is built as the live code leaves it: the lifecycle's actions
(models/order_lifecycle.py) in its timeline, dispatch's offers and breakdowns, the load limit.
SLA deadlines and states, urges on late arrivals and addresses follow for every order in
`demo.promises` and `demo.addresses`; second visits are `demo.second_visits`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from demo import names
from models import OfferStatus

SECOND, MINUTE, HOUR = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)
SYSTEM = ("system", None)


class Draft:
    """One order being written as the lifecycle would: its timeline, offers and columns."""

    def __init__(self, live: LiveOrders, c: int, service: dict, resident_id: int, t0: datetime,
                 actor: tuple | None = None) -> None:  # fmt: skip
        self.live, self.c, self.service, self.resident_id = live, c, service, resident_id
        self.events: list[tuple] = []
        self.offers: list[dict] = []
        self.engineer: int | None = None  # index into the history's engineers
        self.window: tuple[datetime, datetime] | None = None
        self.columns: dict = {"dispatch_breakdown": None, "source": "mini_program"}
        self.step("create", actor or ("resident", resident_id), "created", t0)

    @property
    def status(self) -> str:
        return self.events[-1][4]

    @property
    def at(self) -> datetime:
        return self.events[-1][5]

    def step(self, action: str, actor: tuple, to_status: str | None, at: datetime, reason=None):
        """One timeline event; `to_status` None keeps the status (urge, reschedule …)."""
        from_status = self.status if self.events else None
        self.events.append((action, *actor, from_status, to_status or from_status, at, reason))

    def offer(self, e: int, at: datetime) -> dict:
        """Dispatch offers the order to engineer e (a pending offer, counted in e's load)."""
        live = self.live
        if self.status == "created":
            self.step("dispatch", SYSTEM, "dispatching", at - SECOND)
        breakdown = live.history.score(e, self.c, live.load(e))
        engineer_id = live.engineer_id(e)
        eligible, rejected = live.history.eligible(self.c, self.service)
        self.columns["dispatch_breakdown"] = {
            "engineer_id": engineer_id, **breakdown, "candidates": len(eligible),
            "rejected": rejected, "preferred_skipped": None,
        }  # fmt: skip
        offer = {"engineer_id": engineer_id, "status": OfferStatus.PENDING,
                 "dispatch_breakdown": breakdown, "offered_at": at,
                 "expires_at": at + live.history.timeout, "responded_at": None}  # fmt: skip
        self.offers.append(offer)
        live.pending[e] += 1
        self.step("offer", SYSTEM, "offered", at, f"offered to engineer {engineer_id}")
        return offer

    def answer(self, e: int, outcome: str, at: datetime, reason: str | None = None) -> None:
        """The pending offer to e is accepted, declined or expires."""
        offer, live = self.offers[-1], self.live
        offer["status"], offer["responded_at"] = outcome, at
        live.pending[e] -= 1
        if outcome == OfferStatus.ACCEPTED:
            self.step("accept", ("engineer", live.engineer_id(e)), "accepted", at)
            self.assign(e, at)
        elif outcome == OfferStatus.DECLINED:
            self.step("decline", ("engineer", live.engineer_id(e)), "dispatching", at, reason)
        else:
            reason = f"offer to engineer {offer['engineer_id']} expired"
            self.step("expire", SYSTEM, "dispatching", at, reason)

    def assign(self, e: int, at: datetime) -> None:
        self.engineer, self.columns["accepted_at"] = e, at
        self.live.history.open_orders[e] += 1  # until it is done

    def exhaust(self, engineers: list[int], until: datetime, may_lapse: bool) -> None:
        """Offer the order to each engineer in turn; each declines (or, when `may_lapse` and
        time allows, lets it lapse), all before `until`; then nobody is left."""
        at, rng, timeout = self.at + 2 * SECOND, self.live.rng, self.live.history.timeout
        for n, e in enumerate(engineers):
            self.offer(e, at)
            left = len(engineers) - n - 1  # still to be offered after this one
            if may_lapse and at + timeout + left * 4 * MINUTE < until and rng.random() < 0.5:
                at += timeout
                self.answer(e, OfferStatus.EXPIRED, at)
            else:
                at += min(rng.uniform(60, 240) * SECOND, (until - at) / (left + 2))
                self.answer(e, OfferStatus.DECLINED, at, rng.choice(names.DECLINE_REASONS))
            at += SECOND
        self.unassign(at)

    def unassign(self, at: datetime) -> None:
        """Nobody is left to offer it to: the reasons dispatch gives for every engineer."""
        live = self.live
        eligible, rejected = live.history.eligible(self.c, self.service)
        offered = {offer["engineer_id"] for offer in self.offers}
        for e in eligible:
            engineer_id = live.engineer_id(e)
            rejected[str(engineer_id)] = "already_offered" if engineer_id in offered else (
                "at_max_load")  # fmt: skip
        why = "no eligible engineer: " + ", ".join(sorted(set(rejected.values())))
        self.columns.update(unassigned_reason=why, dispatch_breakdown={
            "rejected": rejected, "preferred_skipped": None})  # fmt: skip
        self.step("unassign", SYSTEM, "unassigned", at, why)

    def work(self, *, en_route: datetime | None = None, start: datetime | None = None,
             done: datetime | None = None) -> None:  # fmt: skip
        """The engineer sets off, arrives and finishes (the steps given)."""
        engineer = ("engineer", self.live.engineer_id(self.engineer))
        for action, status, at in (("en_route", "en_route", en_route),
                                   ("start", "in_service", start),
                                   ("complete", "completed", done)):  # fmt: skip
            if at is not None:
                self.step(action, engineer, status, at)
        if done is not None:
            self.live.history.open_orders[self.engineer] -= 1
            self.live.history.completed_by_link[(self.engineer, self.c)] += 1

    def urge(self, at: datetime) -> None:
        self.step("urge", ("resident", self.resident_id), None, at,
                  self.live.rng.choice(names.URGE_NOTES))  # fmt: skip

    def plan(self, description: str | None = None) -> tuple:
        """(order, events, offers, visit, review), as demo.seed writes them."""
        live, engineer_id = self.live, None
        if self.engineer is not None:
            engineer_id = live.engineer_id(self.engineer)
        window = self.window or (None, None)
        completed = self.at if self.status == "completed" else None
        order = {
            "resident_id": self.resident_id, "community_id": live.history.comms[self.c]["id"],
            "service_type_id": self.service["id"], "status": self.status,
            "engineer_id": engineer_id, "preferred_engineer_id": None,
            "description": description if description is not None
            else live.rng.choice(names.DESCRIPTIONS[self.service["code"]]),
            "window_start": window[0], "window_end": window[1], "complaint": None,
            "version": 1, "created_at": self.events[0][5], "updated_at": self.at,
            "accepted_at": None, "completed_at": completed, **self.columns,
        }  # fmt: skip
        visit = None
        if engineer_id is not None and self.window and self.status != "cancelled":
            visit = {"engineer_id": engineer_id, "starts_at": window[0], "ends_at": window[1],
                     "created_at": order["accepted_at"]}  # fmt: skip
        return order, self.events, self.offers, visit, None


class LiveOrders:
    """Builds the orders above from the history's engineers, communities and residents."""

    def __init__(self, history, manager_id: int) -> None:
        self.history, self.rng, self.now = history, history.rng, history.now
        self.manager_id = manager_id  # the demo's `manager`: follows up complaints
        self.pending: Counter[int] = Counter()  # pending offers per engineer index
        self.residents: set[int] = set()  # who has an order here: one scene each
        self.by_code = {service["code"]: service for service in history.services}
        self.by_id = {service["id"]: service for service in history.services}
        self.engineer_index = {x["id"]: e for e, x in enumerate(history.engineers)}
        self.community_index = {x["id"]: c for c, x in enumerate(history.comms)}

    # -- who and where ---------------------------------------------------------------------

    def engineer_id(self, e: int) -> int:
        return self.history.engineers[e]["id"]

    def load(self, e: int) -> int:
        """Open orders and pending offers, as dispatch counts them against the limit."""
        return self.history.open_orders[e] + self.pending[e]

    def free(self, c: int, service: dict) -> list[int]:
        """Eligible engineers at c with room for one more, best first (as ranking orders)."""
        eligible, _ = self.history.eligible(c, service)
        free = [e for e in eligible if self.load(e) < self.history.max_open]
        return sorted(free, key=lambda e: -self.history.score(e, c, self.load(e))["total"])

    def pick(self, communities: list[int], wanted: int = 1, engineer: int | None = None):
        """A (community, service, free engineers) with at least `wanted` free engineers
        (including `engineer` when given), trying communities in the order given."""
        for c in communities:
            if not self.history.pools[c]:
                continue
            services = list(self.history.services)
            self.rng.shuffle(services)
            for service in services:
                free = self.free(c, service)
                if len(free) >= wanted and (engineer is None or engineer in free):
                    return c, service, free
        return None

    def places(self, first: int | None = None) -> list[int]:
        """Community indices in a seeded order, `first` first."""
        order = list(range(len(self.history.comms)))
        self.rng.shuffle(order)
        return order if first is None else [first, *(c for c in order if c != first)]

    def draft(self, c: int, service: dict, t0: datetime) -> Draft:
        """A new order by a resident of c who has none among these scenes yet."""
        pool = [r for r in self.history.pools[c] if r not in self.residents]
        resident_id = self.rng.choice(pool or self.history.pools[c])
        self.residents.add(resident_id)
        return Draft(self, c, service, resident_id, t0)

    # -- windows ---------------------------------------------------------------------------

    def later_today(self) -> tuple[datetime, datetime]:
        """A two-hour window starting on the half hour, 90 minutes to 2 hours from now."""
        start = _floor(self.now + 2 * HOUR, 30)
        return start, start + 2 * HOUR

    def tomorrow(self, hour: int = 9) -> tuple[datetime, datetime]:
        day = self.now.astimezone(self.history.zone).date() + timedelta(days=1)
        start = self.history.local(day, hour)
        return start, start + 2 * HOUR

    def started(self, minutes: int) -> tuple[datetime, datetime]:
        """A window that started between `minutes` and `minutes` + 5 minutes ago."""
        start = _floor(self.now - minutes * MINUTE, 5)
        return start, start + 2 * HOUR

    def accepted(self, c, service, e, window, before: timedelta = 3 * HOUR) -> Draft:
        """An order the engineer accepted a while before its window."""
        t0 = min(window[0], self.now) - before + self.rng.randrange(3600) * SECOND
        draft = self.draft(c, service, t0)
        draft.offer(e, t0 + 2 * SECOND)
        draft.answer(e, OfferStatus.ACCEPTED, t0 + self.rng.uniform(30, 300) * SECOND)
        draft.window = window
        return draft

    # -- the scenes ------------------------------------------------------------------------

    def plan(self) -> list[tuple]:
        """The orders of the scenes below (after demo.second_visits, which go first)."""
        return self.engineer_at_work() + self.engineer_first_look() + self.console_queue()

    def engineer_first_look(self) -> list[tuple]:
        """engineer1 (engineer index 0): a pending offer in their first community (highest
        standing), one late and urged on the way, and an order accepted for later today."""
        engineer, plans = self.history.engineers[0], []
        mine = sorted(engineer["links"], key=lambda c: -engineer["standing"][c])
        if found := self.pick(mine, engineer=0):
            c, service, _ = found
            draft = self.draft(c, service, self.now - 70 * SECOND)
            draft.offer(0, self.now - 68 * SECOND)
            plans.append(draft.plan())
        if found := self.pick(mine, engineer=0):
            c, service, _ = found
            window = self.started(22)  # arrival due in 3-8 minutes: at risk
            draft = self.accepted(c, service, 0, window, before=5 * HOUR)
            draft.work(en_route=window[0] - 20 * MINUTE)
            draft.urge(self.now - 13 * MINUTE)
            draft.urge(self.now - 2 * MINUTE)
            plans.append(draft.plan())
        if found := self.pick(mine, engineer=0):  # when the load limit leaves room
            c, service, _ = found
            plans.append(self.accepted(c, service, 0, self.later_today()).plan())
        return plans

    def engineer_at_work(self) -> list[tuple]:
        """engineer1 at work (issue 15): an order in service now, whose service type has a
        checklist (the mobile view shows its form), and one finished this morning that waits
        for the resident's acceptance ("_awaiting": demo.acceptance leaves it pending)."""
        engineer, plans = self.history.engineers[0], []
        mine = sorted(engineer["links"], key=lambda c: -engineer["standing"][c])
        if found := self.pick(mine, engineer=0):
            c, service, _ = found
            window = self.started(5 * 60)
            draft = self.accepted(c, service, 0, window, before=20 * HOUR)
            draft.work(en_route=window[0] - 20 * MINUTE, start=window[0] + 10 * MINUTE,
                       done=window[0] + 80 * MINUTE)  # fmt: skip
            plans.append(draft.plan())
            plans[-1][0]["_awaiting"] = True
        if found := self.pick(mine, engineer=0):
            c, service, _ = found
            window = self.started(35)
            draft = self.accepted(c, service, 0, window, before=20 * HOUR)
            draft.work(en_route=window[0] - 25 * MINUTE, start=window[0] + 5 * MINUTE)
            plans.append(draft.plan())
        return plans

    def console_queue(self) -> list[tuple]:
        """What waits in the managers' console: community index 0 (community 1) first."""
        plans = []
        for wanted, scene, first in (  # free engineers needed, the scene, community 1 first?
            (1, self.unassigned_and_late, 0),
            (1, self.offer_expiring, 0),
            (2, self.unassigned_at_risk, None),
            (1, self.offer_expiring, None),
            (3, self.offer_at_risk, None),
            (1, self.late_arrival, None),
            (1, self.late_arrival, None),
            (1, self.overrun, None),
            (1, self.rescheduled, 0),
            (1, self.rescheduled, None),
            (1, self.window_proposed, None),
        ):
            if found := self.pick(self.places(first), wanted):
                plans.append(scene(*found).plan())
        return plans

    def unassigned_and_late(self, c, service, free) -> Draft:
        """Every eligible engineer passed or let the offer lapse; the acceptance deadline has
        gone by and the resident has urged twice."""
        draft = self.draft(c, service, self.now - 75 * MINUTE)
        draft.exhaust(free, self.now - 40 * MINUTE, may_lapse=True)
        draft.urge(self.now - 35 * MINUTE)
        draft.urge(self.now - 12 * MINUTE)
        return draft

    def unassigned_at_risk(self, c, service, free) -> Draft:
        """Declined twice within minutes: no engineer, acceptance due in about 8 minutes."""
        draft = self.draft(c, service, self.now - 22 * MINUTE)
        draft.exhaust(free, self.now - 8 * MINUTE, may_lapse=False)
        return draft

    def offer_expiring(self, c, service, free) -> Draft:
        """Offered a while ago: the offer runs out in one to two and a half minutes."""
        left = min(self.rng.uniform(60, 150) * SECOND, self.history.timeout / 2)
        offered = self.now - (self.history.timeout - left)
        draft = self.draft(c, service, offered - 2 * SECOND)
        draft.offer(free[0], offered)
        return draft

    def offer_at_risk(self, c, service, free) -> Draft:
        """The first offer lapsed, the second was declined, the third runs out in a minute,
        and acceptance is due in about 8 minutes."""
        timeout = self.history.timeout
        draft = self.draft(c, service, self.now - 22 * MINUTE)
        draft.offer(free[0], draft.at + 2 * SECOND)
        draft.answer(free[0], OfferStatus.EXPIRED, draft.at + timeout)
        draft.offer(free[1], draft.at + SECOND)
        last = self.now - (timeout - MINUTE)
        if last - SECOND <= draft.at:  # a short timeout (tests): decline at once
            last = draft.at + 2 * SECOND
        draft.answer(free[1], OfferStatus.DECLINED, last - SECOND, names.DECLINE_REASONS[0])
        draft.offer(free[2], last)
        return draft

    def late_arrival(self, c, service, free) -> Draft:
        """The window started over an hour ago and the engineer is not there: arrival was due
        30-some minutes ago; urged two or three times."""
        window = self.started(65)
        draft = self.accepted(c, service, free[0], window, before=20 * HOUR)
        if self.rng.random() < 0.5:
            draft.work(en_route=window[0] - 10 * MINUTE)
        for minutes in (50, 30, 12)[self.rng.randrange(2) :]:
            draft.urge(self.now - minutes * MINUTE)
        return draft

    def overrun(self, c, service, free) -> Draft:
        """Arrived on time, still working 25 minutes past the completion deadline."""
        started = self.now - (service["sla_complete_minutes"] + 25) * MINUTE
        window = (_floor(started, 5), _floor(started, 5) + 2 * HOUR)
        draft = self.accepted(c, service, free[0], window, before=20 * HOUR)
        draft.work(en_route=window[0] - 25 * MINUTE, start=started)
        return draft

    def rescheduled(self, c, service, free) -> Draft:
        """Accepted for tomorrow; the resident moved the window once or twice."""
        draft = self.accepted(c, service, free[0], self.tomorrow(9), before=26 * HOUR)
        resident = ("resident", draft.resident_id)
        for n in range(self.rng.choice((1, 2))):
            at = draft.at + self.rng.uniform(1, 4) * HOUR
            draft.window = self.tomorrow((14, 17)[n])
            draft.step("reschedule", resident, None, min(at, self.now - MINUTE),
                       self.rng.choice(names.RESCHEDULE_REASONS))  # fmt: skip
        draft.columns["reschedule_count"] = sum(e[0] == "reschedule" for e in draft.events)
        return draft

    def window_proposed(self, c, service, free) -> Draft:
        """Accepted for tomorrow morning; the engineer proposed the afternoon instead."""
        draft = self.accepted(c, service, free[0], self.tomorrow(9), before=20 * HOUR)
        proposed = self.tomorrow(15)
        draft.columns.update(proposed_window_start=proposed[0], proposed_window_end=proposed[1])
        engineer = ("engineer", self.engineer_id(free[0]))
        draft.step("propose_window", engineer, None, draft.at + 2 * HOUR,
                   self.rng.choice(names.PROPOSE_REASONS))  # fmt: skip
        return draft


def _floor(moment: datetime, minutes: int) -> datetime:
    """The moment rounded down to a multiple of `minutes` past the hour (UTC and Shanghai
    agree on minutes)."""
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return moment - (moment.minute % minutes) * MINUTE

"""A year of orders in the demo city, each with the timeline the live order and dispatch code
would write (demo.seed builds the city around it and writes it)."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from flask import current_app

from demo import names
from dispatch.ranking import Candidate, OrderNeeds, score
from models import OfferStatus
from service_hub.plumbing.timefmt import local_zone

OPEN_PER_ENGINEER = 2  # open orders left per engineer, under dispatch's MAX_OPEN_ORDERS (5)
OPEN_STATUSES = ("accepted", "en_route", "in_service")
SECOND, HOUR = timedelta(seconds=1), timedelta(hours=1)
SYSTEM = ("system", None)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


class History:
    """A year of orders, each with the timeline the live order and dispatch code would write."""

    def __init__(self, rng, now, comms, engineers, served, services, pools):
        self.rng, self.now, self.comms, self.engineers = rng, now, comms, engineers
        self.served, self.services, self.pools, self.zone = served, services, pools, local_zone()
        self.start, self.month = now - timedelta(days=365), timedelta(days=365) / 12
        config = current_app.config
        self.weights, self.max_open = config["DISPATCH_WEIGHTS"], config["MAX_OPEN_ORDERS"]
        self.timeout = timedelta(seconds=config["OFFER_TIMEOUT_SECONDS"])
        self.completed_by_link: Counter[tuple[int, int]] = Counter()
        self.open_orders: Counter[int] = Counter()
        self.scores: dict[tuple, dict] = {}
        # skill → [_, January factor, …, December factor], averaging 1 over the year
        self.season = {k: [0, *(f * 12 / sum(v) for f in v)] for k, v in names.SEASONALITY.items()}

    def score(self, e: int, c: int, load: int = 0, preferred: bool = False) -> dict:
        """The live ranking's breakdown for engineer e at community c (cached)."""
        key = (e, c, load, preferred)
        if key not in self.scores:
            engineer, comm = self.engineers[e], self.comms[c]
            candidate = Candidate(
                engineer["id"], True, engineer["skills"], True, load, self.max_open,
                engineer["standing"][c], engineer["base"],
            )  # fmt: skip
            wanted = engineer["id"] if preferred else None
            needs = OrderNeeds("", 1, (comm["lat"], comm["lng"]), wanted)
            self.scores[key] = score(candidate, needs, self.weights).breakdown
        return self.scores[key]

    def generate(self) -> list[tuple]:
        plans: list[tuple] = []
        for c, comm in enumerate(self.comms):
            monthly = self.rng.uniform(*names.TIER_RATES[comm["tier"]]) * comm["household_count"]
            plans += [p for s in self.services for p in self.orders_of(c, s, monthly / 1000)]
        return plans

    def eligible(self, c: int, service: dict) -> tuple[list[int], dict[str, str]]:
        """Engineers (indices) with the skill for `service` at community c, and why each other
        engineer serving c is not (keyed by engineer id, as dispatch stores it)."""
        skill, level, engineers = service["skill"], service["min_skill_level"], self.engineers
        eligible = [e for e in self.served[c] if engineers[e]["skills"].get(skill, 0) >= level]
        rejected = {
            str(engineers[e]["id"]): "skill_level_too_low" if skill in engineers[e]["skills"]
            else "lacks_skill"
            for e in self.served[c] if e not in eligible
        }  # fmt: skip
        return eligible, rejected

    def orders_of(self, c: int, service: dict, monthly: float) -> list[tuple]:
        """One community's orders for one service over the year, by month and season."""
        rng, skill, plans = self.rng, service["skill"], []
        eligible, rejected = self.eligible(c, service)
        if not eligible or not self.pools[c]:
            return plans
        weights = [self.score(e, c)["total"] ** 4 for e in eligible]  # mostly the best
        for month in range(12):
            begin = self.start + self.month * month
            season = self.season[skill][(begin + self.month / 2).astimezone(self.zone).month]
            for _ in range(_poisson(rng, monthly * service["share"] * season)):
                day = (begin + self.month * rng.random()).astimezone(self.zone).date()
                hour = names.pick(rng, names.ORDER_HOURS)
                at = self.local(day, hour) + rng.randrange(3600) * SECOND
                e = rng.choices(eligible, weights)[0]
                # too many orders still open for this engineer: place it three days earlier
                while self.start <= at <= self.now - timedelta(minutes=30):
                    if plan := self.order(c, service, e, eligible, rejected, at):
                        plans.append(plan)
                        break
                    at -= timedelta(days=3)
        return plans

    def order(self, c, service, e, eligible, rejected, t0: datetime) -> tuple | None:
        """(order, events, offers, visit, review) rows, or None when the order would still be
        open and its engineer has enough open ones already."""
        rng, comm, engineer_id = self.rng, self.comms[c], self.engineers[e]["id"]
        resident_id = rng.choice(self.pools[c])
        resident, engineer = ("resident", resident_id), ("engineer", engineer_id)
        events: list[tuple] = []

        def step(action: str, actor: tuple, to_status: str, at: datetime, reason=None) -> None:
            from_status = events[-1][4] if events else None
            events.append((action, *actor, from_status, to_status, at, reason))

        offered = t0 + 2 * SECOND
        step("create", resident, "created", t0)
        step("dispatch", SYSTEM, "dispatching", t0 + SECOND)
        step("offer", SYSTEM, "offered", offered, f"offered to engineer {engineer_id}")
        preferred = rng.random() < 0.06
        breakdown = self.score(e, c, rng.choice([0, 0, 0, 1, 2]), preferred)
        fate, window, accepted_at = rng.random(), None, None
        if fate < 0.03:  # the resident cancels before the engineer answers
            answered = offered + rng.uniform(20, 300) * SECOND
            step("cancel", resident, "cancelled", answered, rng.choice(names.CANCEL_REASONS))
        else:
            answered = accepted_at = offered + rng.uniform(20, 540) * SECOND
            step("accept", engineer, "accepted", accepted_at)
            window = self.window(accepted_at)
            if fate < 0.07:  # cancelled after acceptance, before the engineer sets off
                last = max(window[0] - HOUR, accepted_at + timedelta(minutes=10))
                at = accepted_at + (last - accepted_at) * rng.random() + SECOND
                step("cancel", resident, "cancelled", at, rng.choice(names.CANCEL_REASONS))
            else:
                begin = window[0] + timedelta(minutes=rng.uniform(-10, 25))
                step("en_route", engineer, "en_route", window[0] - rng.uniform(900, 2700) * SECOND)
                step("start", engineer, "in_service", begin)
                took = timedelta(minutes=service["duration_minutes"] * rng.uniform(0.7, 1.4))
                step("complete", engineer, "completed", begin + took)
        offered_status = OfferStatus.ACCEPTED if accepted_at else OfferStatus.WITHDRAWN
        offer = {"engineer_id": engineer_id, "status": offered_status,
                 "dispatch_breakdown": breakdown, "offered_at": offered,
                 "expires_at": offered + self.timeout, "responded_at": answered}  # fmt: skip
        events[:] = [x for x in events if x[5] <= self.now]  # the future has not happened yet
        status, completed_at, review, complaint = events[-1][4], None, None, None
        if status in OPEN_STATUSES:
            if self.open_orders[e] >= OPEN_PER_ENGINEER:
                return None
            self.open_orders[e] += 1
        if status == "completed":
            completed_at = events[-1][5]
            self.completed_by_link[(e, c)] += 1
            rating = names.pick(rng, names.RATING_WEIGHTS) if rng.random() < 0.6 else None
            if rating and rating < 5 and rng.random() < self.engineers[e]["quality"] * 0.3:
                rating += 1  # better engineers earn better ratings
            at = completed_at + rng.uniform(1, 48) * HOUR
            if rating and at <= self.now:
                review = {"resident_id": resident_id, "engineer_id": engineer_id,
                          "community_id": comm["id"], "rating": rating, "created_at": at,
                          "text": rng.choice(names.REVIEW_TEXTS[rating])}  # fmt: skip
            chance = 0.35 if rating and rating <= 2 else 0.05 if rating == 3 else 0.008
            at = completed_at + rng.uniform(2, 72) * HOUR
            if rng.random() < chance and at <= self.now:
                complaint = rng.choice(names.COMPLAINTS)
                step("complain", resident, "completed", at, complaint)
        assigned = accepted_at is not None and accepted_at <= self.now
        order = {
            "resident_id": resident_id, "community_id": comm["id"],
            "service_type_id": service["id"], "status": status,
            "engineer_id": engineer_id if assigned else None,
            "preferred_engineer_id": engineer_id if preferred else None,
            "source": names.pick(rng, names.ORDER_SOURCES),
            "description": rng.choice(names.DESCRIPTIONS[service["code"]]),
            "window_start": window and window[0], "window_end": window and window[1],
            "dispatch_breakdown": {"engineer_id": engineer_id, **breakdown,
                                "candidates": len(eligible),
                                "rejected": rejected, "preferred_skipped": None},
            "complaint": complaint, "version": 1, "created_at": t0, "updated_at": events[-1][5],
            "accepted_at": accepted_at if assigned else None, "completed_at": completed_at,
        }  # fmt: skip
        visit = None
        if assigned and status != "cancelled":  # accepting announces a visit (assignment.py)
            visit = {"engineer_id": engineer_id, "starts_at": window[0], "ends_at": window[1],
                     "created_at": accepted_at}  # fmt: skip
        return order, events, [offer], visit, review

    def local(self, day, hour: int) -> datetime:
        """The UTC moment of a local wall-clock hour."""
        return datetime.combine(day, time(hour), tzinfo=self.zone).astimezone(UTC)

    def window(self, accepted_at: datetime) -> tuple[datetime, datetime]:
        """A two-hour visit slot a few hours to a few days after acceptance."""
        day = accepted_at.astimezone(self.zone).date()
        day += timedelta(days=self.rng.choices([0, 1, 2, 3], [30, 45, 17, 8])[0])
        while True:
            starts = [self.local(day, hour) for hour in names.SLOT_HOURS]
            if starts := [s for s in starts if s >= accepted_at + timedelta(minutes=90)]:
                begin = self.rng.choice(starts[:3])
                return begin, begin + 2 * HOUR
            day += timedelta(days=1)

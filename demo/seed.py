"""`seed_demo`: a demo city (Shanghai) with engineers, residents and a year of order history.

Everything comes from one `random.Random(seed)`, is built in memory, bulk-inserted in batches
and committed in one transaction; the KPI rollups are then rebuilt from the inserted events.
Order timelines use the actions, statuses and actors the live order and dispatch code write.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

import models
from demo import names
from dispatch.ranking import Candidate, OrderNeeds, score
from models.base import utcnow
from service_hub.kpis.rollup import rebuild
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import local_zone

DEMO_PASSWORD = "demo-pass-2026"
BATCH = 1000
ENGINEERS_PER_COMMUNITY = 0.15  # 45 engineers for 300 communities
MIN_LINKS, MAX_LINKS = 5, 15  # communities one engineer serves
OPEN_PER_ENGINEER = 2  # open orders left per engineer, under dispatch's MAX_OPEN_ORDERS (5)
OPEN_STATUSES = ("accepted", "en_route", "in_service")
EVENT_KEYS = ("action", "actor_kind", "actor_id", "from_status", "to_status", "at", "reason")
SECOND, HOUR = timedelta(seconds=1), timedelta(hours=1)
SYSTEM = ("system", None)


def seed_demo(
    communities: int = 300, seed: int = 20261122, progress=print, *, now: datetime | None = None
) -> dict[str, int]:
    """Fill an empty database with a realistic demo city (Shanghai) and a year of order history.

    The same seed and `now` (default: the current time) give the same data.
    """
    demo_staff = models.StaffUser.username.in_(("manager", "manager-sh", "admin", "engineer1"))
    if db.session.scalar(sa.select(sa.func.count()).select_from(models.Community)) or (
        db.session.scalar(sa.select(sa.func.count()).where(demo_staff))
    ):
        raise RuntimeError("seed_demo needs an empty database (communities or demo staff exist)")
    rng, now = random.Random(seed), (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    services = _seed_services()
    comms = _seed_communities(rng, communities, now)
    progress(f"service types: {len(services)}, communities: {len(comms)}")
    engineers, served, gaps = _plan_engineers(rng, comms, services)
    _seed_staff(rng, engineers, now)
    links = sum(len(e["links"]) for e in engineers)
    progress(f"engineers: {len(engineers)} ({links} community links, {gaps} skill gaps)")
    pools, residents, bindings = _seed_residents(rng, comms, now)
    progress(f"residents: {residents} ({bindings} community bindings)")
    history = _History(rng, now, comms, engineers, served, services, pools)
    plans = history.generate()
    progress(f"orders: {len(plans)} generated, writing …")
    counts = _write_history(plans)
    progress(f"orders: {counts['orders']} ({counts['order_events']} events, "
             f"{counts['reviews']} reviews, {counts['complaints']} complaints)")  # fmt: skip
    _insert(models.EngineerCommunity, [
        {"engineer_id": engineer["id"], "community_id": comms[c]["id"],
         "standing": engineer["standing"][c],
         "completed_orders": history.completed_by_link[(e, c)],
         "created_at": engineer["since"] + timedelta(days=1 + c % 30)}
        for e, engineer in enumerate(engineers) for c in engineer["links"]
    ])  # fmt: skip
    kpi_rows = rebuild(progress=progress)  # commits the whole seed as one transaction
    progress(f"kpi rows: {kpi_rows}")
    db.session.commit()
    return {"service_types": len(services), "communities": len(comms),
            "engineers": len(engineers), "engineer_communities": links, "residents": residents,
            "bindings": bindings, **counts, "kpi_rows": kpi_rows}  # fmt: skip


def _insert(model, rows: list[dict], returning: bool = False) -> list[int]:
    """Insert rows in batches; with `returning`, the new ids in the rows' order."""
    # render_nulls: send None as NULL, so rows with and without a value batch together
    stmt, ids = sa.insert(model).execution_options(render_nulls=True), []
    if returning:
        stmt = stmt.returning(model.id, sort_by_parameter_order=True)
    for start in range(0, len(rows), BATCH):
        result = db.session.execute(stmt, rows[start : start + BATCH])
        ids += result.scalars().all() if returning else []
    return ids


def _km(a: tuple[float, float], b: dict) -> float:
    """Flat-earth distance from a (lat, lng) to a community, good enough inside one city."""
    return math.hypot((a[0] - b["lat"]) * 111.0, (a[1] - b["lng"]) * 95.0)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def _seed_services() -> list[dict]:
    rows = names.service_rows()
    shares = [row.pop("share") for row in rows]  # share of orders: not a column
    ids = _insert(models.ServiceType, rows, returning=True)
    for row, service_id, share in zip(rows, ids, shares, strict=True):
        row.update(id=service_id, share=share)
    return rows


def _seed_communities(rng: random.Random, n: int, now: datetime) -> list[dict]:
    rows = names.community_rows(rng, n, now)
    for row, community_id in zip(rows, _insert(models.Community, rows, True), strict=True):
        row["id"] = community_id
    return rows


def _plan_engineers(rng: random.Random, comms: list[dict], services: list[dict]):
    """Engineers, their skills and the communities each serves, so that every community has
    every skill at the level its services need. Returns (engineers, engineer indices serving each
    community, community-skill pairs nobody covers).
    """
    need: dict[str, int] = {}  # skill → level that does every service of that skill
    for service in services:
        need[service["skill"]] = max(need.get(service["skill"], 0), service["min_skill_level"])
    firsts = list({comm["district"]: i for i, comm in reversed(list(enumerate(comms)))}.values())
    engineers: list[dict] = []
    taken: set[str] = set()
    for k in range(max(4, round(len(comms) * ENGINEERS_PER_COMMUNITY))):
        # one engineer based in each district first, then wherever the communities are
        home = comms[firsts[k] if k < len(firsts) else rng.randrange(len(comms))]
        name, skills = names.engineer_profile(rng, k, need, taken)
        engineers.append({"name": name, "skills": skills, "quality": rng.betavariate(5, 2),
                          "home": (home["lat"], home["lng"]), "links": [],
                          "standing": {}})  # fmt: skip
    served: list[list[int]] = [[] for _ in comms]

    def link(e: int, c: int) -> None:
        engineer = engineers[e]
        standing = 0.3 + 0.6 * engineer["quality"] + rng.gauss(0, 0.06)
        engineer["standing"][c] = round(names.clamp(standing, (0.3, 0.95)), 3)
        engineer["links"].append(c)
        served[c].append(e)

    def missing(c: int) -> list[str]:
        have = [engineers[e]["skills"] for e in served[c]]
        return [s for s in names.SKILLS if all(skills.get(s, 0) < need[s] for skills in have)]

    order = list(range(len(comms)))
    rng.shuffle(order)
    for c in order:  # greedy: a near engineer with room who adds missing skills (one = 8 km)
        while lacking := missing(c):
            choices = [
                (gain * 8 - _km(engineer["home"], comms[c]), e)
                for e, engineer in enumerate(engineers)
                if len(engineer["links"]) < MAX_LINKS and e not in served[c]
                if (gain := sum(engineer["skills"].get(s, 0) >= need[s] for s in lacking))
            ]
            if not choices:
                break
            link(max(choices)[1], c)
        if not served[c]:  # every engineer is full: the nearest one takes it anyway
            link(min(range(len(engineers)), key=lambda e: _km(engineers[e]["home"], comms[c])), c)
    for e, engineer in enumerate(engineers):  # everyone serves a handful of communities
        spare = [c for c in range(len(comms)) if e not in served[c]]
        spare.sort(key=lambda c: _km(engineer["home"], comms[c]))
        for c in spare[: max(0, rng.randint(MIN_LINKS, MAX_LINKS) - len(engineer["links"]))]:
            link(e, c)
    for engineer in engineers:  # based among the communities they serve
        mine = [comms[c] for c in engineer["links"]]
        engineer["base"] = tuple(
            round(sum(c[axis] for c in mine) / len(mine) + rng.uniform(-0.006, 0.006), 6)
            for axis in ("lat", "lng")
        )
    return engineers, served, sum(len(missing(c)) for c in range(len(comms)))


def _seed_staff(rng: random.Random, engineers: list[dict], now: datetime) -> None:
    password_hash = generate_password_hash(DEMO_PASSWORD)  # once: hashing is slow on purpose

    def account(username, role, display_name, phone=None, region=None) -> dict:
        return {"username": username, "phone": phone, "password_hash": password_hash,
                "role": role, "display_name": display_name, "region": region,
                "created_at": now - timedelta(days=rng.uniform(400, 1100))}  # fmt: skip

    rows = [account("manager", "manager", "王经理"),
            account("manager-sh", "manager", "陈经理", region="上海市"),
            account("admin", "admin", "系统管理员")]  # fmt: skip
    for i, engineer in enumerate(engineers, 1):
        rows.append(account(f"engineer{i}", "engineer", engineer["name"], f"1380000{i:04d}"))
    profiles, staff_ids = [], _insert(models.StaffUser, rows, returning=True)
    for engineer, staff_id, row in zip(engineers, staff_ids[3:], rows[3:], strict=True):
        years = rng.randint(1, 15)
        trades = "、".join(names.SKILL_NAMES[skill] for skill in engineer["skills"])
        profiles.append({
            "staff_user_id": staff_id, "name": engineer["name"], "years_of_service": years,
            "bio": rng.choice(names.BIO_TEMPLATES).format(skills=trades, years=years),
            "base_lat": engineer["base"][0], "base_lng": engineer["base"][1], "on_duty": True,
            "max_open_orders": None, "created_at": row["created_at"],
        })  # fmt: skip
    engineer_ids = _insert(models.Engineer, profiles, returning=True)
    for engineer, engineer_id, row in zip(engineers, engineer_ids, rows[3:], strict=True):
        engineer.update(id=engineer_id, since=row["created_at"])
    _insert(models.EngineerSkill, [
        {"engineer_id": e["id"], "skill": skill, "level": level}
        for e in engineers for skill, level in e["skills"].items()
    ])  # fmt: skip


def _seed_residents(rng: random.Random, comms: list[dict], now: datetime):
    """Residents, each bound to their home community and a tenth also to a second one nearby;
    returns (resident ids per community index, residents, bindings)."""
    rows, homes = names.resident_rows(rng, comms, now)
    pools: list[list[int]] = [[] for _ in comms]
    bindings, ids = [], _insert(models.Resident, rows, returning=True)
    for resident_id, row, home in zip(ids, rows, homes, strict=True):
        bound = [home]
        if rng.random() < 0.1 and len(comms) > 1:
            others = [c for c in range(len(comms)) if c != home]
            nearby = [c for c in others if comms[c]["district"] == comms[home]["district"]]
            bound.append(rng.choice(nearby or others))
        for c in bound:
            pools[c].append(resident_id)
            created = row["created_at"] + rng.uniform(1, 600) * 60 * SECOND
            bindings.append({"resident_id": resident_id, "community_id": comms[c]["id"],
                             "created_at": created})  # fmt: skip
    _insert(models.CommunityBinding, bindings)
    return pools, len(rows), len(bindings)


class _History:
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

    def orders_of(self, c: int, service: dict, monthly: float) -> list[tuple]:
        """One community's orders for one service over the year, by month and season."""
        rng, skill, engineers, plans = self.rng, service["skill"], self.engineers, []
        level = service["min_skill_level"]
        eligible = [e for e in self.served[c] if engineers[e]["skills"].get(skill, 0) >= level]
        if not eligible or not self.pools[c]:
            return plans
        rejected = {
            str(engineers[e]["id"]): "skill_level_too_low" if skill in engineers[e]["skills"]
            else "lacks_skill"
            for e in self.served[c] if e not in eligible
        }  # fmt: skip
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
        """(order, events, offer, visit, review) rows, or None when the order would still be
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
        offered_status = (
            models.OfferStatus.ACCEPTED if accepted_at else models.OfferStatus.WITHDRAWN
        )
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
        return order, events, offer, visit, review

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


def _write_history(plans: list[tuple]) -> dict[str, int]:
    """Insert orders (oldest first, so ids grow with time) and everything hanging off them."""
    plans.sort(key=lambda plan: plan[0]["created_at"])
    ids = _insert(models.ServiceOrder, [plan[0] for plan in plans], returning=True)
    events, offers, visits, reviews = [], [], [], []
    for order_id, (order, timeline, offer, visit, review) in zip(ids, plans, strict=True):
        common = {"order_id": order_id, "community_id": order["community_id"]}
        events += [{**common, **dict(zip(EVENT_KEYS, row, strict=True))} for row in timeline]
        offers.append({"order_id": order_id, **offer})
        visits += [{**common, **visit}] if visit else []
        reviews += [{"order_id": order_id, **review}] if review else []
    for model, rows in ((models.OrderEvent, events), (models.DispatchOffer, offers),
                        (models.Visit, visits), (models.Review, reviews)):  # fmt: skip
        _insert(model, rows)
    statuses = Counter(plan[0]["status"] for plan in plans)
    complaints = sum(plan[0]["complaint"] is not None for plan in plans)
    return {"orders": len(ids), "completed": statuses["completed"],
            "cancelled": statuses["cancelled"], "open": sum(statuses[s] for s in OPEN_STATUSES),
            "order_events": len(events), "dispatch_offers": len(offers), "visits": len(visits),
            "reviews": len(reviews), "complaints": complaints}  # fmt: skip

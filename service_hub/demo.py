"""`seed_demo`: a demo city (Shanghai) with engineers, residents and a year of order history.

Everything comes from one `random.Random(seed)`, is built in memory, bulk-inserted in batches
and committed in one transaction; the KPI rollups are then rebuilt from the inserted events.
Order timelines use the actions, statuses and actors the live order and dispatch code write.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from dispatch.ranking import Candidate, OrderNeeds, score
from models import (
    Community,
    CommunityBinding,
    DispatchOffer,
    Engineer,
    EngineerCommunity,
    EngineerSkill,
    OrderEvent,
    Resident,
    Review,
    ServiceOrder,
    ServiceType,
    StaffUser,
    Visit,
)
from models.base import utcnow
from service_hub import demo_names as names
from service_hub.extensions import db
from service_hub.kpis.rollup import rebuild
from service_hub.timefmt import local_zone

DEMO_PASSWORD = "demo-pass-2026"
BATCH = 1000
ENGINEERS_PER_COMMUNITY = 0.15  # 45 engineers for 300 communities
MIN_LINKS, MAX_LINKS = 5, 15  # communities one engineer serves
OPEN_PER_ENGINEER = 2  # open orders left per engineer, well under dispatch's MAX_OPEN_ORDERS
OPEN_STATUSES = ("accepted", "en_route", "in_service")
EVENT_KEYS = ("action", "actor_kind", "actor_id", "from_status", "to_status", "at", "reason")
SECOND = timedelta(seconds=1)


def seed_demo(communities: int = 300, seed: int = 20261122, progress=print) -> dict[str, int]:
    """Fill an empty database with a realistic demo city (Shanghai) and a year of order history."""
    for model in (Community, StaffUser):
        if db.session.scalar(sa.select(sa.func.count()).select_from(model)):
            raise RuntimeError(f"seed_demo needs an empty database ({model.__tablename__} rows)")
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    services = _seed_services()
    progress(f"service types: {len(services)}")
    comms = _seed_communities(rng, communities, now)
    progress(f"communities: {len(comms)}")
    engineers, gaps = _plan_engineers(rng, comms, services)
    _seed_staff(rng, engineers, now)
    links = sum(len(e["links"]) for e in engineers)
    progress(f"engineers: {len(engineers)} ({links} community links, {gaps} skill gaps)")
    pools, residents, bindings = _seed_residents(rng, comms, now)
    progress(f"residents: {residents} ({bindings} community bindings)")
    history = _History(rng, now, comms, engineers, services, pools)
    plans = history.generate()
    progress(f"orders: {len(plans)} generated, writing …")
    counts = _write_history(plans, comms)
    progress(
        f"orders: {counts['orders']} ({counts['order_events']} events, "
        f"{counts['reviews']} reviews, {counts['complaints']} complaints)"
    )
    _insert(
        EngineerCommunity,
        [
            {"engineer_id": engineer["id"], "community_id": comms[c]["id"],
             "composite_score": engineer["composite"][c],
             "completed_orders": history.completed_by_link[(e, c)],
             "created_at": now - timedelta(days=400 + (7 * c) % 300)}
            for e, engineer in enumerate(engineers)
            for c in engineer["links"]
        ],
    )  # fmt: skip
    kpi_rows = rebuild(progress=progress)  # commits the whole seed in one transaction
    progress(f"kpi rows: {kpi_rows}")
    db.session.commit()
    return {
        "service_types": len(services),
        "communities": len(comms),
        "engineers": len(engineers),
        "engineer_communities": links,
        "residents": residents,
        "bindings": bindings,
        **counts,
        "kpi_rows": kpi_rows,
    }


def _insert(model, rows: list[dict], returning: bool = False) -> list[int]:
    """Insert rows in batches; with `returning`, the new ids in the rows' order."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        if returning:
            stmt = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
            ids.extend(db.session.scalars(stmt, chunk))
        else:
            db.session.execute(sa.insert(model), chunk)
    return ids


def _km(a: tuple[float, float], b: dict) -> float:
    """Flat-earth distance from a (lat, lng) to a community, good enough inside one city."""
    return math.hypot((a[0] - b["lat"]) * 111.0, (a[1] - b["lng"]) * 95.0)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


def _seed_services() -> list[dict]:
    keys = ("code", "name", "skill", "min_skill_level", "duration_minutes", "base_price_cents")
    rows = [dict(zip(keys, spec[:-1], strict=True)) for spec in names.SERVICE_TYPES]
    ids = _insert(ServiceType, rows, returning=True)
    for row, service_id, spec in zip(rows, ids, names.SERVICE_TYPES, strict=True):
        row.update(id=service_id, share=spec[-1])
    return rows


def _seed_communities(rng: random.Random, n: int, now: datetime) -> list[dict]:
    taken: set[str] = set()
    serials: Counter[str] = Counter()
    rows = []
    for _ in range(n):
        district, code, (lat, lng), jitter, _, roads = rng.choices(
            names.DISTRICTS, [d[4] for d in names.DISTRICTS]
        )[0]
        base = rng.choice(names.COMMUNITY_PREFIXES) + rng.choice(names.COMMUNITY_SUFFIXES)
        name = next((base + p for p in ["", *names.PHASES] if base + p not in taken), None)
        while name is None or name in taken:
            name = f"{base}{rng.randint(6, 99)}期"
        taken.add(name)
        serials[code] += 1
        lat = min(max(lat + rng.uniform(-jitter, jitter), names.LAT_RANGE[0]), names.LAT_RANGE[1])
        lng += rng.uniform(-jitter, jitter) * 1.15
        rows.append({
            "external_code": f"SH-{code}-{serials[code]:04d}", "name": name,
            "province": "上海市", "city": "上海市", "district": district,
            "address": f"{rng.choice(roads)}{rng.randint(1, 2999)}弄",
            "lat": round(lat, 6), "lng": round(min(max(lng, 121.1), 121.8), 6),
            "household_count": int(rng.triangular(300, 3000, 1200)),
            "tier": _pick(rng, names.TIERS), "status": "active",
            "created_at": now - timedelta(days=rng.uniform(1200, 1500)),
        })  # fmt: skip
    for row, community_id in zip(rows, _insert(Community, rows, returning=True), strict=True):
        row["id"] = community_id
    return rows


def _plan_engineers(rng: random.Random, comms: list[dict], services: list[dict]):
    """Engineers, their skills and the communities each serves, so that every community has
    every skill at the level its services need; returns (engineers, uncovered community-skills).
    """
    need: dict[str, int] = {}  # skill → level that does every service of that skill
    for service in services:
        need[service["skill"]] = max(need.get(service["skill"], 0), service["min_skill_level"])
    by_district: dict[str, list[int]] = defaultdict(list)
    for i, comm in enumerate(comms):
        by_district[comm["district"]].append(i)
    districts, engineers, taken = list(by_district), [], set()
    for k in range(max(4, round(len(comms) * ENGINEERS_PER_COMMUNITY))):
        # one engineer based in each district first, then wherever the communities are
        home = comms[
            by_district[districts[k]][0] if k < len(districts) else rng.randrange(len(comms))
        ]
        while (name := rng.choice(names.SURNAMES) + rng.choice(names.GIVEN_NAMES)) in taken:
            pass
        taken.add(name)
        crew = names.CREW_SKILLS[k % 2]
        if rng.random() < 0.08:  # a specialist in one trade
            skills = {crew[0]: rng.randint(max(need[crew[0]], 3), 5)}
        else:
            skills = {skill: max(need[skill], rng.randint(2, 5)) for skill in crew[:2]}
            if rng.random() < 0.5:
                skills[crew[2]] = rng.randint(1, 4)
        engineers.append({
            "name": name, "skills": skills, "quality": rng.betavariate(5, 2),
            "home": (home["lat"], home["lng"]), "links": [], "composite": {},
        })  # fmt: skip
    served: list[list[int]] = [[] for _ in comms]

    def link(e: int, c: int) -> None:
        engineer = engineers[e]
        composite = 0.3 + 0.6 * engineer["quality"] + rng.gauss(0, 0.06)
        engineer["composite"][c] = round(min(max(composite, 0.3), 0.95), 3)
        engineer["links"].append(c)
        served[c].append(e)

    def missing(c: int) -> list[str]:
        return [
            skill for skill in names.SKILLS
            if all(engineers[e]["skills"].get(skill, 0) < need[skill] for e in served[c])
        ]  # fmt: skip

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
        spare = sorted(
            (c for c in range(len(comms)) if e not in served[c]),
            key=lambda c: _km(engineer["home"], comms[c]),
        )
        for c in spare[: max(0, rng.randint(MIN_LINKS, MAX_LINKS) - len(engineer["links"]))]:
            link(e, c)
    for engineer in engineers:  # based among the communities they serve
        mine = [comms[c] for c in engineer["links"]]
        engineer["base"] = tuple(
            round(sum(c[axis] for c in mine) / len(mine) + rng.uniform(-0.006, 0.006), 6)
            for axis in ("lat", "lng")
        )
    return engineers, sum(len(missing(c)) for c in range(len(comms)))


def _seed_staff(rng: random.Random, engineers: list[dict], now: datetime) -> None:
    password_hash = generate_password_hash(DEMO_PASSWORD)  # once: hashing is slow on purpose

    def account(username, role, display_name, phone=None, region=None) -> dict:
        created = now - timedelta(days=rng.uniform(400, 1100))
        return {"username": username, "phone": phone, "password_hash": password_hash,
                "role": role, "display_name": display_name, "region": region, "created_at": created}  # fmt: skip

    rows = [
        account("manager", "manager", "王经理"),
        account("manager-sh", "manager", "陈经理", region="上海市"),
        account("admin", "admin", "系统管理员"),
        *(
            account(f"engineer{i}", "engineer", e["name"], phone=f"1380000{i:04d}")
            for i, e in enumerate(engineers, 1)
        ),
    ]
    staff_ids = _insert(StaffUser, rows, returning=True)[3:]
    profiles = []
    for engineer, staff_id, row in zip(engineers, staff_ids, rows[3:], strict=True):
        years = rng.randint(1, 15)
        trades = "、".join(names.SKILL_NAMES[skill] for skill in engineer["skills"])
        profiles.append({
            "staff_user_id": staff_id, "name": engineer["name"], "years_of_service": years,
            "bio": rng.choice(names.BIO_TEMPLATES).format(skills=trades, years=years),
            "base_lat": engineer["base"][0], "base_lng": engineer["base"][1], "on_duty": True,
            "max_open_orders": None, "created_at": row["created_at"],
        })  # fmt: skip
    for engineer, engineer_id in zip(engineers, _insert(Engineer, profiles, True), strict=True):
        engineer["id"] = engineer_id
    skills = [
        {"engineer_id": e["id"], "skill": skill, "level": level}
        for e in engineers
        for skill, level in e["skills"].items()
    ]
    _insert(EngineerSkill, skills)


def _seed_residents(rng: random.Random, comms: list[dict], now: datetime):
    """About 20 residents per community (more in bigger ones), a tenth bound to a second one
    nearby; returns (resident ids per community index, residents, bindings)."""
    mean_households = sum(c["household_count"] for c in comms) / len(comms)
    rows, homes = [], []
    for c, comm in enumerate(comms):
        share = comm["household_count"] / mean_households * rng.uniform(0.75, 1.25)
        for _ in range(max(4, round(20 * share))):
            rows.append({
                "openid": f"odemo{len(rows) + 1:023d}",
                "nickname": rng.choice(names.NICKNAMES) if rng.random() < 0.7 else None,
                "created_at": now - timedelta(days=rng.uniform(370, 1100)),
                "last_login_at": now - timedelta(days=rng.uniform(0, 90)),
            })  # fmt: skip
            homes.append(c)
    ids = _insert(Resident, rows, returning=True)
    by_district: dict[str, list[int]] = defaultdict(list)
    for c, comm in enumerate(comms):
        by_district[comm["district"]].append(c)
    pools: list[list[int]] = [[] for _ in comms]
    bindings = []
    for resident_id, row, home in zip(ids, rows, homes, strict=True):
        bound = [home]
        if rng.random() < 0.1 and len(comms) > 1:
            nearby = [c for c in by_district[comms[home]["district"]] if c != home]
            bound.append(rng.choice(nearby or [c for c in range(len(comms)) if c != home]))
        for c in bound:
            pools[c].append(resident_id)
            created = row["created_at"] + timedelta(minutes=rng.uniform(1, 600))
            bindings.append(
                {"resident_id": resident_id, "community_id": comms[c]["id"], "created_at": created}
            )
    _insert(CommunityBinding, bindings)
    return pools, len(rows), len(bindings)


class _History:
    """A year of orders, each with the timeline the live order and dispatch code would write."""

    def __init__(self, rng, now, comms, engineers, services, pools):
        self.rng, self.now, self.comms, self.engineers = rng, now, comms, engineers
        self.services, self.pools, self.zone = services, pools, local_zone()
        self.weights = current_app.config["DISPATCH_WEIGHTS"]
        self.timeout = timedelta(seconds=current_app.config["OFFER_TIMEOUT_SECONDS"])
        self.completed_by_link: Counter[tuple[int, int]] = Counter()
        self.open_orders: Counter[int] = Counter()
        self.scores: dict[tuple, dict] = {}
        self.season = {}
        for skill in names.SKILLS:
            default = names.SEASON_DEFAULT.get(skill, 1.0)
            factors = [names.SEASONALITY.get(skill, {}).get(m, default) for m in range(1, 13)]
            self.season[skill] = [0.0] + [f * 12 / sum(factors) for f in factors]

    def score(self, e: int, c: int, load: int = 0, preferred: bool = False) -> dict:
        """The live ranking's breakdown for engineer e at community c (cached)."""
        key = (e, c, load, preferred)
        if key not in self.scores:
            engineer, comm = self.engineers[e], self.comms[c]
            candidate = Candidate(
                engineer["id"], True, engineer["skills"], True, load, 5,
                engineer["composite"][c], engineer["base"],
            )  # fmt: skip
            needs = OrderNeeds(
                "", 1, (comm["lat"], comm["lng"]), engineer["id"] if preferred else None
            )
            self.scores[key] = score(candidate, needs, self.weights).breakdown
        return self.scores[key]

    def generate(self) -> list[tuple]:
        rng, plans, start = self.rng, [], self.now - timedelta(days=365)
        month_span, latest = timedelta(days=365) / 12, self.now - timedelta(minutes=30)
        served: dict[int, list[int]] = defaultdict(list)
        for e, engineer in enumerate(self.engineers):
            for c in engineer["links"]:
                served[c].append(e)
        for c, comm in enumerate(self.comms):
            rate = comm["household_count"] / 1000 * rng.uniform(*names.TIER_RATES[comm["tier"]])
            for service in self.services:
                skill, level = service["skill"], service["min_skill_level"]
                eligible = [
                    e for e in served[c] if self.engineers[e]["skills"].get(skill, 0) >= level
                ]
                if not eligible or not self.pools[c]:
                    continue
                rejected = {
                    str(self.engineers[e]["id"]): "skill_level_too_low"
                    if skill in self.engineers[e]["skills"] else "lacks_skill"
                    for e in served[c] if e not in eligible
                }  # fmt: skip
                weights = [self.score(e, c)["total"] ** 4 for e in eligible]  # mostly the best
                for month in range(12):
                    slice_start = start + month_span * month
                    local_month = (slice_start + month_span / 2).astimezone(self.zone).month
                    for _ in range(
                        _poisson(rng, rate * service["share"] * self.season[skill][local_month])
                    ):
                        day = (slice_start + month_span * rng.random()).astimezone(self.zone).date()
                        hour = time(
                            _pick(rng, names.ORDER_HOURS), rng.randrange(60), rng.randrange(60)
                        )
                        at = datetime.combine(day, hour, tzinfo=self.zone).astimezone(UTC)
                        e = rng.choices(eligible, weights)[0]
                        while start <= at <= latest:  # an engineer with too much open: earlier
                            if plan := self.order(c, service, e, eligible, rejected, at):
                                plans.append(plan)
                                break
                            at -= timedelta(days=3)
        return plans

    def order(self, c, service, e, eligible, rejected, t0: datetime) -> tuple | None:
        """(order row, event rows, offer rows, visit row, review row), or None when the order
        would still be open and its engineer has enough open ones already."""
        rng, comm, engineer_id = self.rng, self.comms[c], self.engineers[e]["id"]
        resident_id, rejected = rng.choice(self.pools[c]), dict(rejected)
        events = [("create", "resident", resident_id, None, "created", t0, None),
                  ("dispatch", "system", None, "created", "dispatching", t0 + SECOND, None)]  # fmt: skip
        offers: list[dict] = []

        def offer(e: int, at: datetime, status: str, responded: datetime, breakdown: dict) -> None:
            events.append(
                (
                    "offer",
                    "system",
                    None,
                    "dispatching",
                    "offered",
                    at,
                    f"offered to engineer {self.engineers[e]['id']}",
                )
            )
            offers.append({"engineer_id": self.engineers[e]["id"], "status": status, "score": breakdown,
                           "offered_at": at, "expires_at": at + self.timeout, "responded_at": responded})  # fmt: skip

        t = t0 + 2 * SECOND
        others = [x for x in eligible if x != e]
        if others and rng.random() < 0.08:  # first offered to someone who passed
            other = rng.choice(others)
            other_id = self.engineers[other]["id"]
            if rng.random() < 0.5:
                until = t + timedelta(seconds=rng.uniform(30, 480))
                offer(other, t, "declined", until, self.score(other, c))
                events.append(
                    (
                        "decline",
                        "engineer",
                        other_id,
                        "offered",
                        "dispatching",
                        until,
                        rng.choice(names.DECLINE_REASONS),
                    )
                )
            else:
                until = t + self.timeout
                offer(other, t, "expired", until, self.score(other, c))
                events.append(
                    (
                        "expire",
                        "system",
                        None,
                        "offered",
                        "dispatching",
                        until,
                        f"offer to engineer {other_id} expired",
                    )
                )
            rejected[str(other_id)] = "already_offered"
            t = until + SECOND
        preferred = rng.random() < 0.06
        breakdown = self.score(e, c, rng.choice([0, 0, 0, 1, 2]), preferred)
        fate, window, accepted_at = rng.random(), None, None
        if fate < 0.03:  # the resident cancels before anyone accepts
            at = t + timedelta(seconds=rng.uniform(20, 300))
            offer(e, t, "withdrawn", at, breakdown)
            events.append(
                (
                    "cancel",
                    "resident",
                    resident_id,
                    "offered",
                    "cancelled",
                    at,
                    rng.choice(names.CANCEL_REASONS),
                )
            )
        else:
            accepted_at = t + timedelta(seconds=rng.uniform(20, 540))
            offer(e, t, "accepted", accepted_at, breakdown)
            events.append(
                ("accept", "engineer", engineer_id, "offered", "accepted", accepted_at, None)
            )
            window = self.window(accepted_at)
            if fate < 0.07:  # cancelled after acceptance, before the engineer sets off
                last = max(window[0] - timedelta(hours=1), accepted_at + timedelta(minutes=10))
                at = accepted_at + (last - accepted_at) * rng.random() + SECOND
                events.append(
                    (
                        "cancel",
                        "resident",
                        resident_id,
                        "accepted",
                        "cancelled",
                        at,
                        rng.choice(names.CANCEL_REASONS),
                    )
                )
            else:
                begin = window[0] + timedelta(minutes=rng.uniform(-10, 25))
                done = begin + timedelta(
                    minutes=service["duration_minutes"] * rng.uniform(0.7, 1.4)
                )
                events += [
                    ("en_route", "engineer", engineer_id, "accepted", "en_route", window[0] - timedelta(minutes=rng.uniform(15, 45)), None),
                    ("start", "engineer", engineer_id, "en_route", "in_service", begin, None),
                    ("complete", "engineer", engineer_id, "in_service", "completed", done, None),
                ]  # fmt: skip
        events = [x for x in events if x[5] <= self.now]  # the future has not happened yet
        status, completed_at, review, complaint = events[-1][4], None, None, None
        if status in OPEN_STATUSES:
            if self.open_orders[e] >= OPEN_PER_ENGINEER:
                return None
            self.open_orders[e] += 1
        if status == "completed":
            completed_at = events[-1][5]
            self.completed_by_link[(e, c)] += 1
            rating = _pick(rng, names.RATING_WEIGHTS) if rng.random() < 0.6 else None
            if rating and rating < 5 and rng.random() < self.engineers[e]["quality"] * 0.3:
                rating += 1  # better engineers earn better ratings
            at = completed_at + timedelta(hours=rng.uniform(1, 48))
            if rating and at <= self.now:
                review = {"resident_id": resident_id, "engineer_id": engineer_id, "community_id": comm["id"],
                          "rating": rating, "text": rng.choice(names.REVIEW_TEXTS[rating]), "created_at": at}  # fmt: skip
            chance = 0.35 if rating and rating <= 2 else 0.05 if rating == 3 else 0.008
            at = completed_at + timedelta(hours=rng.uniform(2, 72))
            if rng.random() < chance and at <= self.now:
                complaint = rng.choice(names.COMPLAINTS)
                events.append(
                    ("complain", "resident", resident_id, "completed", "completed", at, complaint)
                )
        assigned = accepted_at is not None and accepted_at <= self.now
        order = {
            "resident_id": resident_id, "community_id": comm["id"], "service_type_id": service["id"],
            "engineer_id": engineer_id if assigned else None, "status": status,
            "preferred_engineer_id": engineer_id if preferred else None,
            "source": _pick(rng, names.ORDER_SOURCES),
            "description": rng.choice(names.DESCRIPTIONS[service["code"]]),
            "window_start": window and window[0], "window_end": window and window[1],
            "score_breakdown": {"engineer_id": engineer_id, **breakdown, "candidates": len(eligible),
                                "rejected": rejected, "preferred_skipped": None},
            "complaint": complaint, "version": 1, "created_at": t0, "updated_at": events[-1][5],
            "accepted_at": accepted_at if assigned else None, "completed_at": completed_at,
        }  # fmt: skip
        visit = None
        if assigned and status != "cancelled":  # accepting announces a visit (assignment.py)
            visit = {"engineer_id": engineer_id, "community_id": comm["id"], "starts_at": window[0],
                     "ends_at": window[1], "created_at": accepted_at}  # fmt: skip
        return order, events, offers, visit, review

    def window(self, accepted_at: datetime) -> tuple[datetime, datetime]:
        """A two-hour visit slot a few hours to a few days after acceptance."""
        day = accepted_at.astimezone(self.zone).date()
        day += timedelta(days=self.rng.choices([0, 1, 2, 3], [30, 45, 17, 8])[0])
        while True:
            starts = [
                datetime.combine(day, time(h), tzinfo=self.zone).astimezone(UTC)
                for h in names.SLOT_HOURS
            ]
            starts = [s for s in starts if s >= accepted_at + timedelta(minutes=90)]
            if starts:
                begin = self.rng.choice(starts[:3])
                return begin, begin + timedelta(hours=2)
            day += timedelta(days=1)


def _write_history(plans: list[tuple], comms: list[dict]) -> dict[str, int]:
    """Insert orders (oldest first, so ids grow with time) and everything hanging off them."""
    plans.sort(key=lambda plan: plan[0]["created_at"])
    ids = _insert(ServiceOrder, [plan[0] for plan in plans], returning=True)
    events, offers, visits, reviews = [], [], [], []
    for order_id, (order, order_events, order_offers, visit, review) in zip(
        ids, plans, strict=True
    ):
        common = {"order_id": order_id, "community_id": order["community_id"]}
        events += [{**common, **dict(zip(EVENT_KEYS, row, strict=True))} for row in order_events]
        offers += [{"order_id": order_id, **row} for row in order_offers]
        visits += [{**common, **visit}] if visit else []
        reviews += [{"order_id": order_id, **review}] if review else []
    for model, rows in (
        (OrderEvent, events),
        (DispatchOffer, offers),
        (Visit, visits),
        (Review, reviews),
    ):
        _insert(model, rows)
    statuses = Counter(plan[0]["status"] for plan in plans)
    return {
        "orders": len(ids),
        "completed": statuses["completed"],
        "cancelled": statuses["cancelled"],
        "open": sum(statuses[s] for s in OPEN_STATUSES),
        "order_events": len(events),
        "dispatch_offers": len(offers),
        "visits": len(visits),
        "reviews": len(reviews),
        "complaints": sum(plan[0]["complaint"] is not None for plan in plans),
    }

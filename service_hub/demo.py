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
        home = comms[by_district[districts[k]][0] if k < len(districts) else rng.randrange(len(comms))]
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

    def nearest(c: int, pool) -> int | None:
        return min(pool, key=lambda e: _km(engineers[e]["home"], comms[c]), default=None)

    order = list(range(len(comms)))
    rng.shuffle(order)
    for c in order:  # greedy: the nearest engineer with room who adds the most missing skills
        while lacking := missing(c):
            gains = {
                e: sum(engineer["skills"].get(skill, 0) >= need[skill] for skill in lacking)
                for e, engineer in enumerate(engineers)
                if len(engineer["links"]) < MAX_LINKS and e not in served[c]
            }
            best = max(gains.values(), default=0)
            if not best:
                break
            link(nearest(c, [e for e, gain in gains.items() if gain == best]), c)
        if not served[c]:  # every engineer is full: the nearest one takes it anyway
            link(nearest(c, range(len(engineers))), c)
    for e, engineer in enumerate(engineers):  # everyone serves a handful of communities
        spare = sorted((c for c in range(len(comms)) if e not in served[c]), key=lambda c: _km(engineer["home"], comms[c]))
        for c in spare[: rng.randint(MIN_LINKS, MAX_LINKS) - len(engineer["links"])]:
            link(e, c)
    for engineer in engineers:  # based among the communities they serve
        mine = [comms[c] for c in engineer["links"]]
        engineer["base"] = tuple(
            round(sum(c[axis] for c in mine) / len(mine) + rng.uniform(-0.006, 0.006), 6)
            for axis in ("lat", "lng")
        )
    return engineers, sum(len(missing(c)) for c in range(len(comms)))

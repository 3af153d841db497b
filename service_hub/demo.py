"""`seed_demo`: a demo city (Shanghai) with engineers, residents and a year of order history.

Everything comes from one `random.Random(seed)`, is built in memory, bulk-inserted in batches
and committed in one transaction; the KPI rollups are then rebuilt from the inserted events.
Order timelines use the same actions, statuses and actors as the live order and dispatch code.
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
# orders per 1,000 households per month, by community tier
TIER_RATES = {"A": (3.5, 6.0), "B": (2.8, 5.0), "C": (2.2, 4.2), "D": (2.0, 3.2)}
ORDER_HOURS = list(range(7, 22))
ORDER_HOUR_WEIGHTS = [2, 5, 8, 9, 8, 7, 6, 6, 7, 8, 9, 8, 6, 4, 2]
SLOT_HOURS = (9, 11, 13, 15, 17, 19)
DECLINE_REASONS = ["今天已经排满了", "距离太远，赶不过去", "缺少配件"]


def seed_demo(communities: int = 300, seed: int = 20261122, progress=print) -> dict[str, int]:
    """Fill an empty database with a realistic demo city (Shanghai) and a year of order history."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Community)) or db.session.scalar(
        sa.select(sa.func.count()).select_from(StaffUser)
    ):
        raise RuntimeError("seed_demo needs an empty database (communities or staff exist)")
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
    counts = _write_history(plans)
    progress(
        f"orders: {counts['orders']} ({counts['order_events']} events, "
        f"{counts['reviews']} reviews, {counts['complaints']} complaints)"
    )
    _seed_links(engineers, history.completed_by_link, now)
    kpi_rows = rebuild(progress=progress)
    progress(f"kpi rows: {kpi_rows}")
    db.session.commit()
    return {
        "service_types": len(services),
        "communities": len(comms),
        "staff": len(engineers) + 3,
        "engineers": len(engineers),
        "residents": residents,
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


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Flat-earth distance, good enough inside one city."""
    return math.hypot((lat1 - lat2) * 111.0, (lng1 - lng2) * 95.0)


def _seed_services() -> list[dict]:
    rows = [
        {"code": code, "name": name, "skill": skill, "min_skill_level": level, "active": True,
         "duration_minutes": minutes, "base_price_cents": price}
        for code, name, skill, level, minutes, price, _ in names.SERVICE_TYPES
    ]  # fmt: skip
    for row, service_id, spec in zip(
        rows, _insert(ServiceType, rows, returning=True), names.SERVICE_TYPES, strict=True
    ):
        row.update(id=service_id, share=spec[-1])
    return rows


def _seed_communities(rng: random.Random, n: int, now: datetime) -> list[dict]:
    weights = [d[4] for d in names.DISTRICTS]
    taken: set[str] = set()
    serials: Counter[str] = Counter()
    rows = []
    for _ in range(n):
        district, code, (lat, lng), jitter, _, roads = rng.choices(names.DISTRICTS, weights)[0]
        base = rng.choice(names.COMMUNITY_PREFIXES) + rng.choice(names.COMMUNITY_SUFFIXES)
        name = base
        for phase in names.PHASES:
            if name not in taken:
                break
            name = base + phase
        while name in taken:
            name = base + str(rng.randint(6, 99)) + "期"
        taken.add(name)
        serials[code] += 1
        rows.append({
            "external_code": f"SH-{code}-{serials[code]:04d}",
            "name": name,
            "province": "上海市",
            "city": "上海市",
            "district": district,
            "address": f"{rng.choice(roads)}{rng.randint(1, 2999)}弄",
            "lat": round(min(max(lat + rng.uniform(-jitter, jitter), 30.9), 31.45), 6),
            "lng": round(min(max(lng + rng.uniform(-jitter, jitter) * 1.15, 121.1), 121.8), 6),
            "household_count": int(rng.triangular(300, 3000, 1200)),
            "tier": rng.choices(list(names.TIERS), list(names.TIERS.values()))[0],
            "status": "active",
            "created_at": now - timedelta(days=rng.uniform(1200, 1500)),
        })  # fmt: skip
    for row, community_id in zip(rows, _insert(Community, rows, returning=True), strict=True):
        row["id"] = community_id
    return rows


def _plan_engineers(rng: random.Random, comms: list[dict], services: list[dict]):
    """Engineers with skills, and the communities each serves, covering every skill per community.

    Returns (engineers, number of community-skill pairs nobody could cover).
    """
    need: dict[str, int] = {}  # skill → level that does every service of that skill
    for service in services:
        need[service["skill"]] = max(need.get(service["skill"], 0), service["min_skill_level"])
    by_district: dict[str, list[int]] = defaultdict(list)
    for i, comm in enumerate(comms):
        by_district[comm["district"]].append(i)
    n = max(4, round(len(comms) * ENGINEERS_PER_COMMUNITY))
    engineers = []
    full_names: set[str] = set()
    for k in range(n):
        # one engineer based in each district first, then where the communities are
        districts = list(by_district)
        home = comms[by_district[districts[k]][0] if k < len(districts) else rng.randrange(len(comms))]
        while (name := rng.choice(names.SURNAMES) + rng.choice(names.GIVEN_NAMES)) in full_names:
            pass
        full_names.add(name)
        skills = rng.sample(names.SKILLS, rng.choices([1, 2, 3], [15, 45, 40])[0])
        levels = {skill: rng.choices([2, 3, 4, 5], [10, 35, 35, 20])[0] for skill in skills[:1]}
        levels |= {skill: rng.choices([1, 2, 3, 4], [15, 35, 35, 15])[0] for skill in skills[1:]}
        engineers.append({
            "name": name, "skills": levels, "quality": rng.betavariate(5, 2),
            "home": (home["lat"], home["lng"]), "links": [], "composite": {},
        })  # fmt: skip
    served: list[list[int]] = [[] for _ in comms]

    def link(e: int, c: int) -> None:
        engineer = engineers[e]
        engineer["links"].append(c)
        noise = rng.gauss(0, 0.06)
        engineer["composite"][c] = round(min(max(0.3 + 0.6 * engineer["quality"] + noise, 0.3), 0.95), 3)
        served[c].append(e)

    def missing(c: int) -> list[str]:
        return [s for s in names.SKILLS if all(engineers[e]["skills"].get(s, 0) < need[s] for e in served[c])]

    order = list(range(len(comms)))
    rng.shuffle(order)
    for c in order:
        while lacking := missing(c):
            best, best_key = None, None
            for e, engineer in enumerate(engineers):
                if len(engineer["links"]) >= MAX_LINKS or e in served[c]:
                    continue
                gain = sum(engineer["skills"].get(s, 0) >= need[s] for s in lacking)
                key = gain - _km(*engineer["home"], comms[c]["lat"], comms[c]["lng"]) / 6
                if gain and (best_key is None or key > best_key):
                    best, best_key = e, key
            if best is None:
                break
            link(best, c)
    for e, engineer in enumerate(engineers):
        target = rng.randint(MIN_LINKS, MAX_LINKS)
        nearest = sorted(
            (c for c in range(len(comms)) if e not in served[c]),
            key=lambda c: _km(*engineer["home"], comms[c]["lat"], comms[c]["lng"]),
        )
        for c in nearest[: max(0, target - len(engineer["links"]))]:
            link(e, c)
    for c in range(len(comms)):
        if not served[c]:  # only when every engineer is full: take the nearest anyway
            link(min(range(n), key=lambda e: _km(*engineers[e]["home"], comms[c]["lat"], comms[c]["lng"])), c)
    for engineer in engineers:
        mine = [comms[c] for c in engineer["links"]]
        engineer["base"] = (
            round(sum(c["lat"] for c in mine) / len(mine) + rng.uniform(-0.006, 0.006), 6),
            round(sum(c["lng"] for c in mine) / len(mine) + rng.uniform(-0.006, 0.006), 6),
        )
    return engineers, sum(len(missing(c)) for c in range(len(comms)))

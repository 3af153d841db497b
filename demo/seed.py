"""`seed_demo`: a demo city (Shanghai) with engineers, residents and a year of order history,
and the orders open at its "now" that fill every queue of a newcomer's first look.

Everything comes from `random.Random(seed)` (the year of history, `demo.history`) and streams
named after the seed (second visits, the open orders of `demo.live_orders`, urges and SLA
breaches, addresses, follow-ups), is built in memory, bulk-inserted in batches and committed
in one transaction; the KPI rollups (communities and engineers) are then rebuilt from the
inserted events, reviews and breaches. Order timelines use the actions, statuses and actors the
live order lifecycle, dispatch and SLA code write.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

import models
from demo import names
from demo.acceptance import accept_work, demo_photos, seed_checklists
from demo.addresses import seed_addresses
from demo.follow_ups import open_follow_ups, review_for_moderation
from demo.history import OPEN_STATUSES, History
from demo.live_orders import LiveOrders
from demo.promises import keep_promises, record_breaches
from demo.second_visits import second_visits
from models.base import utcnow
from service_hub.kpis.rollup import rebuild
from service_hub.plumbing.extensions import db

DEMO_PASSWORD = "demo-pass-2026"
BATCH = 1000
ENGINEERS_PER_COMMUNITY = 0.15  # 45 engineers for 300 communities
MIN_LINKS, MAX_LINKS = 5, 15  # communities one engineer serves
SECOND = timedelta(seconds=1)
EVENT_KEYS = ("action", "actor_kind", "actor_id", "from_status", "to_status", "at", "reason")


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
    checklists = seed_checklists(services, _insert)
    comms = _seed_communities(rng, communities, now)
    progress(f"service types: {len(services)}, communities: {len(comms)}")
    engineers, served, gaps = _plan_engineers(rng, comms, services)
    manager_id = _seed_staff(rng, engineers, now)
    links = sum(len(e["links"]) for e in engineers)
    progress(f"engineers: {len(engineers)} ({links} community links, {gaps} skill gaps)")
    pools, residents, bindings = _seed_residents(rng, comms, now)
    progress(f"residents: {residents} ({bindings} community bindings)")
    history = History(rng, now, comms, engineers, served, services, pools)
    plans = history.generate()
    # What follows draws from streams of its own, so the year of history stays as it was.
    history.rng = random.Random(f"{seed}-live-orders")
    live = LiveOrders(history, manager_id)
    plans += second_visits(live, plans)  # first: they need the engineers' room now
    plans += live.plan()
    review_for_moderation(plans, now, seed)
    keep_promises(plans, services, now, seed)
    photos = demo_photos(_insert, manager_id, now)
    acceptance = accept_work(plans, checklists, photos, now, seed)
    for order, *_ in plans:  # the links count accepted work only (dispatch/standing.py)
        if order["acceptance"] in (models.Acceptance.PENDING, models.Acceptance.DISPUTED):
            link = (live.engineer_index[order["engineer_id"]],
                    live.community_index[order["community_id"]])  # fmt: skip
            history.completed_by_link[link] -= 1
    progress("acceptance: " + ", ".join(f"{k} {v}" for k, v in sorted(acceptance.items())))
    addresses = seed_addresses(plans, comms, seed, _insert)
    progress(f"orders: {len(plans)} generated ({addresses} addresses), writing …")
    counts = _write_history(plans, now)
    counts.update(addresses=addresses, follow_ups=open_follow_ups(plans, manager_id, now, seed))
    counts.update(record_breaches(plans, now))
    progress(f"orders: {counts['orders']} ({counts['order_events']} events, "
             f"{counts['reviews']} reviews, {counts['complaints']} complaints, "
             f"{counts['sla_breaches']} SLA breaches, "
             f"{counts['second_visits']} second visits)")  # fmt: skip
    _insert(models.EngineerCommunity, [
        {"engineer_id": engineer["id"], "community_id": comms[c]["id"],
         "standing": engineer["standing"][c],
         "completed_orders": history.completed_by_link[(e, c)],
         "created_at": engineer["since"] + timedelta(days=1 + c % 30)}
        for e, engineer in enumerate(engineers) for c in engineer["links"]
    ])  # fmt: skip
    kpi_rows = rebuild(progress=progress)  # commits the whole seed as one transaction
    progress(f"kpi rows: {kpi_rows}")
    return {"service_types": len(services), "communities": len(comms),
            "engineers": len(engineers), "engineer_communities": links, "residents": residents,
            "bindings": bindings, **counts, "kpi_rows": kpi_rows}  # fmt: skip


def _insert(model, rows: list[dict], returning: bool = False) -> list[int]:
    """Insert rows in batches; with `returning`, the new ids in the rows' order.

    Rows of one table carry the same keys. A Core insert on the table (the ORM's bulk path
    would inspect every row of a wide table again), and ids taken before (_new_ids): RETURNING
    over many rows costs several times the insert itself, on both backends.
    """
    table, ids = model.__table__, []
    if returning:
        ids = _new_ids(table, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
    for start in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[start : start + BATCH])
    return ids


def _new_ids(table: sa.Table, n: int) -> list[int]:
    """n ids for new rows: drawn from the table's sequence (PostgreSQL), or after its highest
    id (SQLite, where the seed's transaction holds the database's write lock)."""
    if not n:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        return list(db.session.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"), {"table": table.name, "n": n}))  # fmt: skip
    top = db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0
    return list(range(top + 1, top + n + 1))


def _km(a: tuple[float, float], b: dict) -> float:
    """Flat-earth distance from a (lat, lng) to a community, good enough inside one city."""
    return math.hypot((a[0] - b["lat"]) * 111.0, (a[1] - b["lng"]) * 95.0)


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


def _seed_staff(rng: random.Random, engineers: list[dict], now: datetime) -> int:
    """Staff accounts and engineer profiles; returns the `manager` account's id."""
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
    return staff_ids[0]


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


def _write_visits(visits: list[dict], now: datetime) -> None:
    """Visits, and for those still ahead the follow-on slots an accepted order opens right
    after its window (as visits.service.open_order_visit does), so neighbours can book."""
    config = current_app.config
    slot, count = timedelta(minutes=config["VISIT_SLOT_MINUTES"]), config["VISIT_FOLLOW_ON_SLOTS"]
    _insert(models.Visit, [visit for visit in visits if visit["ends_at"] <= now])
    upcoming = [visit for visit in visits if visit["ends_at"] > now]
    window_ends = [visit["ends_at"] for visit in upcoming]
    for visit in upcoming:
        visit["ends_at"] += slot * count
    ids = _insert(models.Visit, upcoming, returning=True)
    _insert(models.VisitSlot, [
        {"visit_id": visit_id, "starts_at": end + slot * n, "ends_at": end + slot * (n + 1),
         "capacity": 1, "booked": 0}
        for visit_id, end in zip(ids, window_ends, strict=True) for n in range(count)
    ])  # fmt: skip


def _write_history(plans: list[tuple], now: datetime) -> dict[str, int]:
    """Insert orders (oldest first, so ids grow with time) and everything hanging off them;
    each order's dict gets its new "id". Keys starting with "_" are the plan's notes, not
    columns: "_parent" is the order a second visit returns to (its parent_order_id)."""
    plans.sort(key=lambda plan: plan[0]["created_at"])
    orders = [plan[0] for plan in plans]
    notes = [{k: order.pop(k) for k in [k for k in order if k[0] == "_"]} for order in orders]
    ids = _new_ids(models.ServiceOrder.__table__, len(orders))
    for order, order_id in zip(orders, ids, strict=True):
        order["id"] = order_id
    for order, note in zip(orders, notes, strict=True):  # a parent has its id by now
        order["parent_order_id"] = note["_parent"]["id"] if "_parent" in note else None
    _insert(models.ServiceOrder, orders)
    for order, note in zip(orders, notes, strict=True):
        order.update(note)
    events, offers, visits, reviews = [], [], [], []
    for order, timeline, order_offers, visit, review in plans:
        order_id = order["id"]
        common = {"order_id": order_id, "community_id": order["community_id"]}
        events += [{**common, **dict(zip(EVENT_KEYS, row, strict=True))} for row in timeline]
        offers += [{"order_id": order_id, **offer} for offer in order_offers]
        visits += [{**common, **visit}] if visit else []
        reviews += [{"order_id": order_id, **review}] if review else []
    for model, rows in ((models.OrderEvent, events), (models.DispatchOffer, offers),
                        (models.Review, reviews)):  # fmt: skip
        _insert(model, rows)
    _write_visits(visits, now)
    statuses = Counter(plan[0]["status"] for plan in plans)
    complaints = sum(order["complaint"] is not None for order in orders)
    repeats = sum(order["parent_order_id"] is not None for order in orders)
    return {"orders": len(ids), "completed": statuses["completed"],
            "cancelled": statuses["cancelled"], "open": sum(statuses[s] for s in OPEN_STATUSES),
            "order_events": len(events), "dispatch_offers": len(offers), "visits": len(visits),
            "reviews": len(reviews), "complaints": complaints,
            "second_visits": repeats}  # fmt: skip

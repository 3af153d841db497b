"""Residents' address books in the demo city, and the address and contact each order keeps.

Every resident with orders has a door in each community they ordered in (one of them the
default), and some a second door there (the parents' flat, with its own contact). Mobiles
are fake but well formed: the 170/171 virtual-operator ranges. Orders copy the door they went
to as `service_hub.addresses.service.order_snapshot` does (address_text in the same words); a
second visit copies its first order's (service_hub/sla/second_visits.py).
"""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace

from demo import names
from models import ResidentAddress
from service_hub.addresses.service import address_text

SECOND_DOOR, SECOND_DOOR_SHARE = 0.15, 0.3  # residents with a second door; orders going there


def _door(rng: random.Random) -> dict:
    floors = rng.choice((6, 11, 18, 33))
    return {"building": str(rng.randint(1, 40)),
            "unit": str(rng.randint(1, 4)) if floors > 6 or rng.random() < 0.5 else "",
            "room": f"{rng.randint(1, floors)}{rng.randint(1, 4):02d}"}  # fmt: skip


def _mobile(rng: random.Random, taken: set[str]) -> str:
    while (mobile := f"17{rng.choice('01')}{rng.randrange(10**8):08d}") in taken:
        pass
    taken.add(mobile)
    return mobile


def seed_addresses(plans: list[tuple], comms: list[dict], seed: int, insert) -> int:
    """Insert the address books of residents with orders and set every order's snapshot
    (address_id, address_text, contact_name, contact_mobile); returns the addresses made.
    `insert(model, rows, returning)` is the seed's batch insert."""
    rng = random.Random(f"{seed}-addresses")
    community_of = {comm["id"]: comm for comm in comms}
    first_order: dict[tuple[int, int], dict] = {}  # (resident, community) → oldest order
    for order, *_ in sorted(plans, key=lambda plan: plan[0]["created_at"]):
        first_order.setdefault((order["resident_id"], order["community_id"]), order)
    rows, doors, people, defaults, mobiles = [], {}, {}, set(), set()
    for (resident_id, community_id), order in first_order.items():
        if resident_id not in people:  # how this resident signs: 王先生, or a full name
            surname = rng.choice(names.SURNAMES)
            people[resident_id] = surname + (
                rng.choice(names.CONTACT_TITLES) if rng.random() < 0.6
                else rng.choice(names.GIVEN_NAMES))  # fmt: skip
        made = order["created_at"] - rng.uniform(60, 3600) * timedelta(seconds=1)
        mine = [{"resident_id": resident_id, "community_id": community_id, **_door(rng),
                 "contact_name": people[resident_id], "mobile": _mobile(rng, mobiles),
                 "is_default": resident_id not in defaults,
                 "created_at": made, "updated_at": made}]  # fmt: skip
        if rng.random() < SECOND_DOOR:
            family = people[resident_id][0] + rng.choice(names.FAMILY_CONTACTS)
            mine.append({**mine[0], **_door(rng), "contact_name": family,
                         "mobile": _mobile(rng, mobiles), "is_default": False})  # fmt: skip
        doors[(resident_id, community_id)] = mine
        defaults.add(resident_id)
        rows += mine
    insert(ResidentAddress, rows, True)  # sets each row's "id"
    snapshot = ("address_id", "address_text", "contact_name", "contact_mobile")
    for order, *_ in sorted(plans, key=lambda plan: "_parent" in plan[0]):
        if parent := order.get("_parent"):  # a second visit goes to the first one's door
            order.update({column: parent[column] for column in snapshot})
            continue
        mine = doors[(order["resident_id"], order["community_id"])]
        door = mine[-1] if len(mine) > 1 and rng.random() < SECOND_DOOR_SHARE else mine[0]
        community = SimpleNamespace(**community_of[order["community_id"]])
        order.update(address_id=door["id"], contact_name=door["contact_name"],
                     address_text=address_text(community, SimpleNamespace(**door)),
                     contact_mobile=door["mobile"])  # fmt: skip
    return len(rows)

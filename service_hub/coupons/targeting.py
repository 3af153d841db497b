"""Which communities and residents a campaign reaches (千区千面).

A campaign's `targeting` combines rules with AND; a rule left out does not narrow:

    {"tiers": ["A", "B"],                               community tier
     "orders_per_1000": {"min": 2, "max": 10},          last month's orders per 1,000
                                                         households: min ≤ v < max
     "regions": [{"province": …, "city": …, "district": …}, …]   any entry; each entry
                                                         matches on the parts it names
     "radius": {"lat": …, "lng": …, "radius_km": …},    great-circle distance
     "new_residents_days": 30}                          residents who joined ≤ 30 days ago

and the campaign's `region_scope` (its manager's region) always applies. One community is
judged by `reaches()` in Python; a preview over every community asks the database the same
questions (`_reach_conditions`), with the radius measured in Python after a bounding-box
prefilter, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from geopy.point import Point

from models import Community, CommunityBinding, CommunityMonthKpi, CommunityStatus, Resident
from models.base import utcnow
from service_hub.auth.regions import place_in_region
from service_hub.communities.nearby import distance_m
from service_hub.plumbing.extensions import db
from service_hub.plumbing.geo import bounding_box
from service_hub.plumbing.timefmt import local_zone

PREVIEW_SAMPLE = 20


@dataclass(frozen=True)
class Place:
    """What targeting needs to know about one community."""

    id: int
    name: str
    status: str
    tier: str
    province: str
    city: str
    district: str
    lat: float
    lng: float
    household_count: int
    orders_last_month: int

    @property
    def orders_per_1000(self) -> float | None:
        """Last month's orders per 1,000 households (None without a household count)."""
        if not self.household_count:
            return None
        return round(self.orders_last_month * 1000 / self.household_count, 3)


def volume_month(now: datetime | None = None) -> str:
    """The local calendar month before the current one ("YYYY-MM"): the volume band's month."""
    local = (now or utcnow()).astimezone(local_zone())
    last_day_of_previous = local.replace(day=1) - timedelta(days=1)
    return last_day_of_previous.strftime("%Y-%m")


def _places(condition, now: datetime | None) -> dict[int, Place]:
    rows = db.session.execute(
        sa.select(Community, sa.func.coalesce(CommunityMonthKpi.orders_created, 0))
        .outerjoin(
            CommunityMonthKpi,
            sa.and_(
                CommunityMonthKpi.community_id == Community.id,
                CommunityMonthKpi.month == volume_month(now),
            ),
        )
        .where(condition)
    ).all()
    return {c.id: _place(c, orders) for c, orders in rows}


def places(community_ids: list[int], now: datetime | None = None) -> dict[int, Place]:
    """Targeting facts of these communities, with last month's order counts."""
    return _places(Community.id.in_(community_ids), now) if community_ids else {}


def places_of_resident(resident_id: int, now: datetime | None = None) -> dict[int, Place]:
    """Targeting facts of the communities a resident is bound to (one query)."""
    bound = sa.select(CommunityBinding.community_id).where(
        CommunityBinding.resident_id == resident_id
    )
    return _places(Community.id.in_(bound), now)


def _place(c: Community, orders: int) -> Place:
    return Place(
        c.id,
        c.name,
        c.status,
        c.tier,
        c.province,
        c.city,
        c.district,
        c.lat,
        c.lng,
        c.household_count,
        orders,
    )


def _in_band(orders: int, households: int, band: dict) -> bool:
    # Compared as orders × 1000 against bound × households: no division, same as the SQL.
    if not households:
        return False
    low, high = band.get("min"), band.get("max")
    if low is not None and orders * 1000 < low * households:
        return False
    return high is None or orders * 1000 < high * households


def _in_named_region(entry: dict, place: Place) -> bool:
    return all(
        entry.get(part) in (None, getattr(place, part)) for part in ("province", "city", "district")
    )


def reaches(targeting: dict, region_scope: str | None, place: Place) -> bool:
    """Whether a campaign with these rules reaches this community."""
    if place.status != CommunityStatus.ACTIVE or not place_in_region(
        region_scope, place.province, place.city
    ):
        return False
    if targeting.get("tiers") and place.tier not in targeting["tiers"]:
        return False
    band = targeting.get("orders_per_1000")
    if band and not _in_band(place.orders_last_month, place.household_count, band):
        return False
    regions = targeting.get("regions")
    if regions and not any(_in_named_region(entry, place) for entry in regions):
        return False
    radius = targeting.get("radius")
    return not radius or _within_radius(radius, place.lat, place.lng)


def _within_radius(radius: dict, lat: float, lng: float) -> bool:
    origin = Point(radius["lat"], radius["lng"])
    return distance_m(origin, lat, lng) <= radius["radius_km"] * 1000


def resident_is_new(targeting: dict, joined_at: datetime, now: datetime | None = None) -> bool:
    """Whether the new-residents rule (if any) lets this resident in."""
    days = targeting.get("new_residents_days")
    return days is None or joined_at >= (now or utcnow()) - timedelta(days=days)


def _reach_conditions(targeting: dict, region_scope: str | None) -> list:
    """WHERE conditions on Community (joined to last month's KPI row) for every rule but the
    exact radius, which the bounding box only approximates."""
    orders = sa.func.coalesce(CommunityMonthKpi.orders_created, 0)
    conditions: list = [Community.status == CommunityStatus.ACTIVE]
    if region_scope:
        conditions.append(
            sa.or_(Community.province == region_scope, Community.city == region_scope)
        )
    if targeting.get("tiers"):
        conditions.append(Community.tier.in_(targeting["tiers"]))
    band = targeting.get("orders_per_1000")
    if band:
        conditions.append(Community.household_count > 0)
        if band.get("min") is not None:
            conditions.append(orders * 1000 >= band["min"] * Community.household_count)
        if band.get("max") is not None:
            conditions.append(orders * 1000 < band["max"] * Community.household_count)
    if targeting.get("regions"):
        conditions.append(
            sa.or_(
                *(
                    sa.and_(
                        sa.true(),
                        *(
                            getattr(Community, part) == entry[part]
                            for part in ("province", "city", "district")
                            if entry.get(part) is not None
                        ),
                    )
                    for entry in targeting["regions"]
                )
            )
        )
    radius = targeting.get("radius")
    if radius:
        min_lat, max_lat, min_lng, max_lng = bounding_box(
            radius["lat"], radius["lng"], radius["radius_km"]
        )
        conditions += [
            Community.lat.between(min_lat, max_lat),
            Community.lng.between(min_lng, max_lng),
        ]
    return conditions


def _reached_select(targeting: dict, region_scope: str | None, now: datetime | None):
    return (
        sa.select(Community.id, Community.lat, Community.lng)
        .outerjoin(
            CommunityMonthKpi,
            sa.and_(
                CommunityMonthKpi.community_id == Community.id,
                CommunityMonthKpi.month == volume_month(now),
            ),
        )
        .where(*_reach_conditions(targeting, region_scope))
    )


def reached_community_ids(
    targeting: dict, region_scope: str | None, now: datetime | None = None
) -> list[int]:
    """Ids of every community the campaign reaches now, ascending."""
    stmt = _reached_select(targeting, region_scope, now).order_by(Community.id)
    radius = targeting.get("radius")
    return [
        community_id
        for community_id, lat, lng in db.session.execute(stmt)
        if not radius or _within_radius(radius, lat, lng)
    ]


def preview(targeting: dict, region_scope: str | None, now: datetime | None = None) -> dict:
    """How many communities and residents a campaign reaches now, with a sample of them.

    Residents are counted once however many reached communities they are bound to; the
    new-residents rule counts only those who joined recently enough. Without a radius the
    database does all the counting; a radius (at most a few thousand communities) is
    measured here first.
    """
    now = now or utcnow()
    if targeting.get("radius"):
        ids = reached_community_ids(targeting, region_scope, now)
        communities, reached = len(ids), ids
        first = ids[:PREVIEW_SAMPLE]
    else:
        subquery = _reached_select(targeting, region_scope, now).subquery()
        communities = db.session.scalar(sa.select(sa.func.count()).select_from(subquery))
        reached = sa.select(subquery.c.id)
        first = list(db.session.scalars(reached.order_by(subquery.c.id).limit(PREVIEW_SAMPLE)))
    stmt = sa.select(sa.func.count(sa.distinct(CommunityBinding.resident_id))).where(
        CommunityBinding.community_id.in_(reached)
    )
    days = targeting.get("new_residents_days")
    if days is not None:
        stmt = stmt.join(Resident, Resident.id == CommunityBinding.resident_id).where(
            Resident.created_at >= now - timedelta(days=days)
        )
    residents = db.session.scalar(stmt) if communities else 0
    sample = sorted(places(first, now).values(), key=lambda p: p.id)
    return {
        "communities": communities,
        "residents": residents,
        "volume_month": volume_month(now),
        "sample": [
            {
                "id": p.id,
                "name": p.name,
                "tier": p.tier,
                "city": p.city,
                "district": p.district,
                "orders_per_1000": p.orders_per_1000,
            }
            for p in sample
        ],
    }

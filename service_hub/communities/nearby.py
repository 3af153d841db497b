"""Active communities near a point, nearest first, through the grid-cell index.

The database narrows 500,000 communities to the few hundred in the grid cells under the
search circle's bounding box (indexed `geo_cell`, then the box itself); Python measures each
candidate with geopy, keeps those inside the radius, sorts and cuts. See docs/nearby.md.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from geopy.distance import great_circle
from geopy.point import Point

from models import Community, CommunityStatus
from service_hub.plumbing.extensions import db
from service_hub.plumbing.geo import bounding_box, cells_covering

# What a nearby item shows besides distance_m: the same fields as CommunitySchema.
ITEM_COLUMNS = (
    Community.id,
    Community.external_code,
    Community.name,
    Community.province,
    Community.city,
    Community.district,
    Community.address,
    Community.lat,
    Community.lng,
    Community.household_count,
    Community.tier,
    Community.status,
)


def distance_m(origin: Point, lat: float, lng: float) -> float:
    """Metres from origin to (lat, lng) on geopy's great circle.

    The great circle is 16 times cheaper than geopy's ellipsoidal geodesic (about 6 µs
    against 90 µs a pair, and a query measures hundreds of candidates) and differs from it by
    at most 0.5 %: 15 m in 3 km, less than the size of the community a coordinate stands for.
    """
    return great_circle(origin, (lat, lng)).meters


def find_nearby(lat: float, lng: float, radius_km: float, page_size: int, page: int = 1) -> dict:
    """Active communities within radius_km of (lat, lng), nearest first (ties by id), one page.

    Returns the shared page envelope {"items": [community fields + distance_m], "page",
    "page_size", "total": how many are within the radius} and "radius_km".
    """
    origin = Point(lat, lng)
    radius_m = radius_km * 1000
    candidates = db.session.execute(
        sa.select(Community.id, Community.lat, Community.lng).where(
            *_search_area(lat, lng, radius_km), Community.status == CommunityStatus.ACTIVE
        )
    ).all()
    inside = sorted(
        (distance, community_id)
        for community_id, c_lat, c_lng in candidates
        if (distance := distance_m(origin, c_lat, c_lng)) <= radius_m
    )
    nearest = inside[(page - 1) * page_size : page * page_size]
    rows = {
        row.id: row._asdict()
        for row in db.session.execute(
            sa.select(*ITEM_COLUMNS).where(Community.id.in_([cid for _, cid in nearest]))
        )
    }
    items = [
        {**rows[community_id], "distance_m": round(distance)}
        for distance, community_id in nearest
        if community_id in rows  # deleted between the two reads
    ]
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": len(inside),
        "radius_km": radius_km,
    }


def _search_area(lat: float, lng: float, radius_km: float) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions: the covering grid cells (indexed), then the bounding box itself."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    return [
        _any_of(Community.geo_cell, _runs(cells_covering(lat, lng, radius_km))),
        Community.lat.between(min_lat, max_lat),
        _any_of(Community.lng, _longitude_ranges(min_lng, max_lng)),
    ]


def _runs(cells: Iterable[int]) -> list[tuple[int, int]]:
    """Cells as (first, last) runs of consecutive ids.

    The cells of one grid row are consecutive ids, so `geo_cell IN (…)` becomes a few range
    scans of the same index; near a pole, where a circle covers thousands of cells, the list
    would otherwise outgrow the database's parameter limit.
    """
    runs: list[tuple[int, int]] = []
    for cell in sorted(set(cells)):
        if runs and cell == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], cell)
        else:
            runs.append((cell, cell))
    return runs


def _longitude_ranges(min_lng: float, max_lng: float) -> list[tuple[float, float]]:
    """The box's longitudes as ranges inside [-180, 180], split where it crosses ±180."""
    if max_lng - min_lng >= 360:
        return [(-180.0, 180.0)]
    if min_lng < -180:
        return [(min_lng + 360, 180.0), (-180.0, max_lng)]
    if max_lng > 180:
        return [(min_lng, 180.0), (-180.0, max_lng - 360)]
    return [(min_lng, max_lng)]


def _any_of(column, ranges: list[tuple]) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(column == low if low == high else column.between(low, high) for low, high in ranges)
    )

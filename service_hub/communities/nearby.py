"""Active communities near a point, nearest first: the database measures, geopy confirms.

The grid-cell index narrows 500,000 communities to those under the search circle's bounding
box; the database computes each candidate's haversine (which grows with the great-circle
distance), keeps those inside the radius, counts them, sorts and cuts the page. Only the page,
and a few neighbours either side, come back to Python, where geopy measures them: the distance
shown is geopy's, and near-ties and the radius's edge are decided by geopy's figures, so the
answer is the one a full scan measured with geopy gives. See docs/nearby.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import sqlalchemy as sa
from geopy.distance import EARTH_RADIUS, great_circle
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
# How far the database's distance may be from geopy's: both are the great circle on geopy's
# sphere in IEEE doubles (haversine against geopy's atan2 form), which agree to nanometres at
# these ranges; a millimetre is a wide margin. Closer than this to the radius or to each other,
# geopy's figures decide.
TOLERANCE_M = 0.001
# Neighbours read either side of the page, so that a near-tie across its edge is seen.
MARGIN = 8


def distance_m(origin: Point, lat: float, lng: float) -> float:
    """Metres from origin to (lat, lng) on geopy's great circle.

    The great circle is 16 times cheaper than geopy's ellipsoidal geodesic (about 6 µs
    against 90 µs a pair) and differs from it by at most 0.5 %: 15 m in 3 km, less than the
    size of the community a coordinate stands for.
    """
    return great_circle(origin, (lat, lng)).meters


def find_nearby(lat: float, lng: float, radius_km: float, page_size: int, page: int = 1) -> dict:
    """Active communities within radius_km of (lat, lng), nearest first (ties by id), one page.

    Returns the shared page envelope {"items": [community fields + distance_m], "page",
    "page_size", "total": how many are within the radius} and "radius_km".
    """
    origin = Point(lat, lng)
    radius_m = radius_km * 1000
    start = (page - 1) * page_size
    slice_start = max(0, start - MARGIN)
    candidates, params = _candidates(lat, lng, radius_km)
    params.update(
        haversine_low=_haversine(radius_m - TOLERANCE_M),
        haversine_high=_haversine(radius_m + TOLERANCE_M),
        slice_start=slice_start,
        slice_size=start - slice_start + page_size + MARGIN,
    )
    rows = db.session.execute(
        sa.text(
            f"WITH candidate AS MATERIALIZED ({candidates}), page AS ("
            " SELECT candidate.*, count(*) OVER () AS within,"
            " sum(CASE WHEN haversine > :haversine_low THEN 1 ELSE 0 END) OVER () AS on_edge"
            " FROM candidate WHERE haversine <= :haversine_high"
            " ORDER BY haversine, id LIMIT :slice_size OFFSET :slice_start)"
            f" SELECT page.*, {_PAGE_FIELDS} FROM page JOIN community ON community.id = page.id"
            " ORDER BY page.haversine, page.id"
        ),
        params,
    ).all()
    if rows:
        total = rows[0].within
        if rows[0].on_edge:
            total -= _outside_by_geopy(origin, candidates, params, radius_m)
    elif slice_start:  # no row at or after slice_start: only the count is left to say
        total = _count_within(origin, candidates, params, radius_m)
    else:
        total = 0
    nearest = _page_by_geopy(origin, rows, radius_m, slice_start, start, page_size)
    if nearest is None:  # a near-tie wider than the margins: geopy measures every candidate
        nearest = _page_from_all(origin, candidates, params, radius_m, start, page_size)
    return {
        "items": _items(nearest, rows),
        "page": page,
        "page_size": page_size,
        "total": total,
        "radius_km": radius_km,
    }


def _candidates(lat: float, lng: float, radius_km: float) -> tuple[str, dict]:
    """SQL of the active communities in the covering cells and the box, with their haversine.

    Text SQL, one string per count of ranges (cached): built and keyed in microseconds, and
    the same text each time lets psycopg prepare it on the server.
    """
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    cells = _runs(cells_covering(lat, lng, radius_km))
    longitudes = _longitude_ranges(min_lng, max_lng)
    params = {
        "min_lat": min_lat,
        "max_lat": max_lat,
        "origin_lat": lat,
        "origin_lng": lng,
        "cos_origin_lat": math.cos(math.radians(lat)),
        "radians_per_half_degree": math.pi / 360,
    }
    for n, (low, high) in enumerate(cells):
        params[f"cell_low_{n}"], params[f"cell_high_{n}"] = low, high
    for n, (low, high) in enumerate(longitudes):
        params[f"lng_low_{n}"], params[f"lng_high_{n}"] = low, high
    return _candidates_sql(len(cells), len(longitudes)), params


@functools.lru_cache(maxsize=256)
def _candidates_sql(cell_runs: int, longitude_ranges: int) -> str:
    cells = " OR ".join(
        f"geo_cell BETWEEN :cell_low_{n} AND :cell_high_{n}" for n in range(cell_runs)
    )
    longitudes = " OR ".join(
        f"lng BETWEEN :lng_low_{n} AND :lng_high_{n}" for n in range(longitude_ranges)
    )
    return (
        f"SELECT id, lat, lng, {_HAVERSINE_SQL} AS haversine FROM community"
        f" WHERE ({cells}) AND lat BETWEEN :min_lat AND :max_lat AND ({longitudes})"
        f" AND status = '{CommunityStatus.ACTIVE.value}'"  # a literal, as a partial index needs
    )


# sin²(Δlat/2) + cos lat₁ · cos lat₂ · sin²(Δlng/2): three sines and cosines a row (a wrap
# across ±180° changes the sign of the second sine, not its square). It grows with the
# great-circle distance, so it filters and orders as the distance does.
_HAVERSINE_SQL = (
    "power(sin((lat - :origin_lat) * :radians_per_half_degree), 2)"
    " + :cos_origin_lat * cos(radians(lat))"
    " * power(sin((lng - :origin_lng) * :radians_per_half_degree), 2)"
)
_ITEM_NAMES = tuple(column.key for column in ITEM_COLUMNS)
_PAGE_FIELDS = ", ".join(
    f"community.{name}" for name in _ITEM_NAMES if name not in ("id", "lat", "lng")
)
_RADIUS_M = EARTH_RADIUS * 1000


def _haversine(metres: float) -> float:
    """The haversine of a distance on geopy's sphere (what the SQL computes for a row)."""
    return math.sin(max(metres, 0.0) / (2 * _RADIUS_M)) ** 2


def _metres(haversine: float) -> float:
    """The great-circle distance of a haversine, within nanometres of geopy's figure."""
    return 2 * _RADIUS_M * math.asin(math.sqrt(min(max(haversine, 0.0), 1.0)))


def _page_by_geopy(origin: Point, rows, radius_m: float, slice_start: int, start: int, size: int):
    """The page cut from the rows read around it, ordered by geopy's (distance, id).

    `rows` are the database's ranks slice_start, slice_start + 1, …  None when a row that was
    not read could belong on the page: the database's distance at an edge of what was read is
    within TOLERANCE_M of a geopy distance on the page.
    """
    measured = sorted(
        (metres, row.id)
        for row in rows
        if (metres := distance_m(origin, row.lat, row.lng)) <= radius_m
    )
    nearest = measured[start - slice_start : start - slice_start + size]
    if not rows:
        return nearest
    if slice_start and nearest and _metres(rows[0].haversine) + TOLERANCE_M >= nearest[0][0]:
        return None
    read_to_the_end = slice_start + len(rows) == rows[0].within
    if not read_to_the_end and (
        not nearest
        or len(nearest) < size
        or _metres(rows[-1].haversine) - TOLERANCE_M <= nearest[-1][0]
    ):
        return None
    return nearest


def _outside_by_geopy(origin: Point, candidates: str, params: dict, radius_m: float) -> int:
    """How many rows the database counted within the radius are beyond it by geopy."""
    on_edge = db.session.execute(
        sa.text(
            f"SELECT lat, lng FROM ({candidates}) AS candidate"
            " WHERE haversine > :haversine_low AND haversine <= :haversine_high"
        ),
        params,
    )
    return sum(distance_m(origin, c_lat, c_lng) > radius_m for c_lat, c_lng in on_edge)


def _count_within(origin: Point, candidates: str, params: dict, radius_m: float) -> int:
    """How many candidates are within the radius by geopy (for a page past the end)."""
    within = db.session.scalar(
        sa.text(
            f"SELECT count(*) FROM ({candidates}) AS candidate WHERE haversine <= :haversine_high"
        ),
        params,
    )
    return within - _outside_by_geopy(origin, candidates, params, radius_m)


def _page_from_all(origin: Point, candidates: str, params: dict, radius_m, start, size):
    """The page as geopy orders every candidate within the radius (the rare slow path)."""
    rows = db.session.execute(
        sa.text(
            f"SELECT id, lat, lng FROM ({candidates}) AS candidate"
            " WHERE haversine <= :haversine_high"
        ),
        params,
    )
    measured = sorted(
        (metres, community_id)
        for community_id, c_lat, c_lng in rows
        if (metres := distance_m(origin, c_lat, c_lng)) <= radius_m
    )
    return measured[start : start + size]


def _items(nearest: list[tuple[float, int]], rows=()) -> list[dict]:
    """Each community's fields with its geopy distance in whole metres, in the page's order.

    Fields come from `rows` (the rows read with the page); any other community is read.
    """
    fields = {row.id: {name: getattr(row, name) for name in _ITEM_NAMES} for row in rows}
    missing = [cid for _, cid in nearest if cid not in fields]
    if missing:
        fields.update(
            (row.id, row._asdict())
            for row in db.session.execute(sa.select(*ITEM_COLUMNS).where(Community.id.in_(missing)))
        )
    return [
        {**fields[community_id], "distance_m": round(metres)}
        for metres, community_id in nearest
        if community_id in fields  # deleted between the two reads
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

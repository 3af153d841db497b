"""A fixed latitude/longitude grid for the nearby lookup.

Each community stores the integer id of its grid cell (an indexed column). A nearby query
asks only the cells that cover the search circle's bounding box, so it reads a few hundred
rows at most instead of every community. See docs/nearby.md for the reasoning.
"""

from __future__ import annotations

import math

CELL_DEGREES = 0.05  # about 5.5 km north-south; narrower east-west away from the equator
_LNG_CELLS = round(360 / CELL_DEGREES)
# The shortest a degree of latitude gets: 110.574 km on the WGS-84 meridian at the equator
# (geopy's geodesic), 111.195 km on geopy's great-circle sphere. Dividing by the shortest keeps
# every point within the radius inside the box, whichever of the two measures the distance.
KM_PER_DEGREE_LAT = 110.5


def cell_of(lat: float, lng: float) -> int:
    """The grid cell id of a point (stable: changing CELL_DEGREES needs a migration)."""
    lat_index = math.floor((lat + 90) / CELL_DEGREES)
    lng_index = math.floor((lng + 180) / CELL_DEGREES) % _LNG_CELLS
    return lat_index * _LNG_CELLS + lng_index


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) of a circle, generous by a hair for rounding."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlng = min(radius_km / (KM_PER_DEGREE_LAT * cos_lat), 180.0)
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def cells_covering(lat: float, lng: float, radius_km: float) -> list[int]:
    """Every cell that intersects the circle's bounding box."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    first_lat = math.floor((max(min_lat, -90) + 90) / CELL_DEGREES)
    last_lat = math.floor((min(max_lat, 90) + 90) / CELL_DEGREES)
    first_lng = math.floor((min_lng + 180) / CELL_DEGREES)
    last_lng = math.floor((max_lng + 180) / CELL_DEGREES)
    return [
        lat_index * _LNG_CELLS + lng_index % _LNG_CELLS
        for lat_index in range(first_lat, last_lat + 1)
        for lng_index in range(first_lng, last_lng + 1)
    ]

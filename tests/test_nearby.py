"""Nearby communities: nearest first with geopy distances, the radius, active only, grid-cell
boundaries, the edges of the map, the shared page envelope, and 422 for bad coordinates,
radius or paging."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from geopy.distance import geodesic, great_circle

from models import Community
from service_hub.plumbing.extensions import db
from service_hub.plumbing.geo import CELL_DEGREES, cell_of
from tests import factories as f

URL = "/api/v1/communities/nearby"
ORIGIN = (31.2023, 121.4371)


def at(metres: float, bearing: float, origin: tuple[float, float] = ORIGIN):
    """The point `metres` from origin on a compass bearing (on geopy's great circle)."""
    point = great_circle(meters=metres).destination(origin, bearing)
    return point.latitude, point.longitude


def community_at(app, point: tuple[float, float], **overrides) -> int:
    return f.community(app, lat=point[0], lng=point[1], **overrides)


def nearby(client, origin=ORIGIN, **params) -> dict:
    response = client.get(URL, query_string={"lat": origin[0], "lng": origin[1], **params})
    assert response.status_code == 200, response.json
    return response.json


def test_nearest_come_first_with_their_distance_in_metres(app, client):
    points = {"far": at(2500, 200), "near": at(300, 10), "middle": at(1200, 95)}
    ids = {name: community_at(app, point) for name, point in points.items()}
    body = nearby(client)
    assert [item["id"] for item in body["items"]] == [ids["near"], ids["middle"], ids["far"]]
    for item in body["items"]:
        point = (item["lat"], item["lng"])
        assert item["distance_m"] == round(great_circle(ORIGIN, point).meters)
        assert item["distance_m"] == pytest.approx(geodesic(ORIGIN, point).meters, rel=0.005)
    assert body["items"][0]["name"] and body["items"][0]["household_count"] == 1000


def test_communities_beyond_the_radius_are_left_out(app, client):
    inside = community_at(app, at(1900, 45))
    community_at(app, at(2100, 45))
    body = nearby(client, radius_km=2)
    assert ([item["id"] for item in body["items"]], body["total"]) == ([inside], 1)


def test_the_radius_defaults_to_3_km(app, client):
    inside = community_at(app, at(2900, 300))
    community_at(app, at(3100, 300))
    body = nearby(client)
    assert ([item["id"] for item in body["items"]], body["radius_km"]) == ([inside], 3.0)


@pytest.mark.parametrize("bearing", [0, 90, 180, 270])
def test_a_community_just_inside_the_radius_is_found_in_every_direction(app, client, bearing):
    just_inside = community_at(app, at(2999, bearing))
    assert [item["id"] for item in nearby(client)["items"]] == [just_inside]


def test_inactive_communities_are_left_out(app, client):
    active = community_at(app, at(500, 0))
    community_at(app, at(400, 0), status="inactive")
    assert [item["id"] for item in nearby(client)["items"]] == [active]


def test_communities_just_across_grid_lines_are_found(app, client):
    # The origin sits just north-east of a corner where four grid cells meet.
    corner_lat, corner_lng = 31.2, 121.45
    origin = (corner_lat + 0.0002, corner_lng + 0.0002)
    offsets = [(-0.0004, 0.0), (0.0, -0.0004), (-0.0004, -0.0004), (0.0003, 0.0003)]
    points = [(origin[0] + dlat, origin[1] + dlng) for dlat, dlng in offsets]
    assert len({cell_of(*p) for p in points}) == 4, "the points must lie in four cells"
    assert CELL_DEGREES == 0.05
    ids = {community_at(app, point) for point in points}
    body = nearby(client, origin=origin, radius_km=0.1)
    assert {item["id"] for item in body["items"]} == ids


def test_a_wide_search_reaches_communities_many_cells_away(app, client):
    far = community_at(app, at(45_000, 135))
    assert [item["id"] for item in nearby(client, radius_km=50)["items"]] == [far]


def test_page_size_caps_the_items_but_total_counts_every_community_within_the_radius(app, client):
    ids = [community_at(app, at(100 * (n + 1), 30 * n)) for n in range(5)]
    body = nearby(client, page_size=2)
    assert ([item["id"] for item in body["items"]], body["total"]) == (ids[:2], 5)


def test_the_answer_is_the_shared_page_envelope_with_the_radius(app, client):
    community_at(app, at(100, 0))
    body = nearby(client, page_size=3)
    assert set(body) == {"items", "page", "page_size", "total", "radius_km"}
    assert (body["page"], body["page_size"], body["radius_km"]) == (1, 3, 3.0)


def test_the_second_page_continues_nearest_first(app, client):
    ids = [community_at(app, at(100 * (n + 1), 30 * n)) for n in range(5)]
    body = nearby(client, page=2, page_size=2)
    assert ([item["id"] for item in body["items"]], body["page"]) == (ids[2:4], 2)


def test_the_old_limit_parameter_is_refused_naming_page_size(app, client):
    response = client.get(URL, query_string={"lat": ORIGIN[0], "lng": ORIGIN[1], "limit": 3})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["fields"] == {"limit": ["Unknown parameter; use page_size."]}
    assert "page_size" in error["message_zh"]


def test_a_search_across_the_180th_meridian_finds_the_other_side(app, client):
    across = community_at(app, (-16.5, -179.9995))
    body = nearby(client, origin=(-16.5, 179.9995), radius_km=1)
    assert [item["id"] for item in body["items"]] == [across]
    assert body["items"][0]["distance_m"] == pytest.approx(107, abs=1)


def test_a_search_at_a_pole_with_the_widest_radius_answers(app, client):
    community_at(app, (89.9, 10.0))
    body = nearby(client, origin=(90, 0), radius_km=50)
    assert body["total"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lng": 121.4}, "lat"),
        ({"lat": 31.2}, "lng"),
        ({"lat": 90.01, "lng": 121.4}, "lat"),
        ({"lat": 31.2, "lng": -180.5}, "lng"),
        ({"lat": "north", "lng": 121.4}, "lat"),
        ({"lat": "nan", "lng": 121.4}, "lat"),
        ({"lat": 31.2, "lng": 121.4, "radius_km": 0}, "radius_km"),
        ({"lat": 31.2, "lng": 121.4, "radius_km": -1}, "radius_km"),
        ({"lat": 31.2, "lng": 121.4, "radius_km": 50.5}, "radius_km"),
        ({"lat": 31.2, "lng": 121.4, "page_size": 0}, "page_size"),
        ({"lat": 31.2, "lng": 121.4, "page_size": 101}, "page_size"),
    ],
)
def test_missing_or_out_of_range_arguments_are_422(app, client, params, field):
    response = client.get(URL, query_string=params)
    assert response.status_code == 422
    error = response.json["error"]
    assert (error["code"], list(error["fields"])) == ("validation_error", [field])
    assert error["message_zh"]


def test_the_largest_radius_comes_from_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "NEARBY_MAX_RADIUS_KM", 5)
    params = {"lat": ORIGIN[0], "lng": ORIGIN[1]}
    assert client.get(URL, query_string={**params, "radius_km": 5}).status_code == 200
    assert client.get(URL, query_string={**params, "radius_km": 5.1}).status_code == 422


def naive_scan(app, origin, radius_km: float) -> list[tuple[int, int]]:
    """(id, distance_m) of every active community within the radius, measured one by one with
    geopy and sorted by (distance, id): what the lookup must answer, page by page."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Community.id, Community.lat, Community.lng, Community.status)
        )
        measured = sorted(
            (great_circle(origin, (lat, lng)).meters, community_id)
            for community_id, lat, lng, status in rows
            if status == "active"
        )
    return [(cid, round(metres)) for metres, cid in measured if metres <= radius_km * 1000]


def a_crowded_neighbourhood(app, seed: int) -> None:
    """Random communities around ORIGIN with the hard cases: exact ties (a dozen at one point,
    more than the lookup reads beyond a page), equal distances on different bearings, points
    on the 3 km radius to the last bit, and inactive ones."""
    rng = random.Random(seed)
    for _ in range(60):
        community_at(app, at(rng.uniform(0, 3400), rng.uniform(0, 360)))
    for _ in range(12):
        community_at(app, at(1234.5, 77))
    for bearing in range(0, 360, 30):
        community_at(app, at(800, bearing))
        community_at(app, at(3000, bearing))
    for _ in range(10):
        community_at(app, at(rng.uniform(0, 3000), rng.uniform(0, 360)), status="inactive")


@pytest.mark.parametrize("page_size", [7, 20])
def test_every_page_is_the_naive_geopy_scan(app, client, page_size):
    a_crowded_neighbourhood(app, seed=page_size)
    expected = naive_scan(app, ORIGIN, 3.0)
    pages = -(-len(expected) // page_size) + 1  # and one past the end
    for page in range(1, pages + 1):
        body = nearby(client, page=page, page_size=page_size)
        got = [(item["id"], item["distance_m"]) for item in body["items"]]
        start = (page - 1) * page_size
        assert (got, body["total"]) == (expected[start : start + page_size], len(expected))

"""Benchmark: GET /communities/nearby at 500,000 communities against a plain SQL query.

Run by hand, never in the test suite:
    .venv/bin/python bench/nearby.py --rows 500000            # PostgreSQL, BENCH_DATABASE_URL
    .venv/bin/python bench/nearby.py --rows 500000 --reuse    # keep an already imported table
    .venv/bin/python bench/nearby.py --backend embedded --rows 100000

Loads communities around 64 city centres with bench/community_scale.py's generator and import,
then at 1, 3 and 10 km times, query by query alternately on the same points:
- measured: `find_nearby`, the function behind the route (grid cells, distances in SQL, geopy
  on the page);
- reference: the issue's best SQL alternative, a bounding box on a (lat, lng) B-tree (an index
  this script adds to its own database) with the haversine filter, count and ORDER BY in SQL,
  then the same item read;
and prints p50/p99 of both and measured/reference. Then a naive full scan (every active
community measured with geopy) on a sample, which must give the same answers as find_nearby.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from geopy.point import Point

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import community_scale as scale  # noqa: E402
from service_hub.communities.nearby import _items, distance_m, find_nearby  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from service_hub.plumbing.geo import bounding_box  # noqa: E402

REFERENCE_SQL = sa.text(
    """
    SELECT id, metres, count(*) OVER () AS total FROM (
        SELECT id, 2 * 6371009.0 * asin(sqrt(
                 power(sin(radians(lat - :lat) / 2), 2)
                 + cos(radians(:lat)) * cos(radians(lat)) * power(sin(radians(lng - :lng) / 2), 2)
               )) AS metres
        FROM community
        WHERE lat BETWEEN :min_lat AND :max_lat AND lng BETWEEN :min_lng AND :max_lng
          AND status = 'active'
    ) AS box
    WHERE metres <= :radius_m
    ORDER BY metres, id
    LIMIT :size OFFSET :skip
    """
)


def reference_nearby(lat: float, lng: float, radius_km: float, page_size: int, page: int = 1):
    """The SQL alternative: bounding box on (lat, lng), haversine filter, count and sort in SQL."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    rows = db.session.execute(
        REFERENCE_SQL,
        {
            "lat": lat,
            "lng": lng,
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lng": min_lng,
            "max_lng": max_lng,
            "radius_m": radius_km * 1000,
            "size": page_size,
            "skip": (page - 1) * page_size,
        },
    ).all()
    items = _items([(metres, community_id) for community_id, metres, _ in rows])
    return {"items": items, "total": rows[0].total if rows else 0}


def naive_nearby(lat: float, lng: float, radius_km: float, page_size: int, page: int = 1):
    """Every active community measured with geopy, sorted by (distance, id): the truth."""
    origin = Point(lat, lng)
    rows = db.session.execute(sa.text("SELECT id, lat, lng FROM community WHERE status = 'active'"))
    inside = sorted(
        (metres, cid)
        for cid, c_lat, c_lng in rows
        if (metres := distance_m(origin, c_lat, c_lng)) <= radius_km * 1000
    )
    start = (page - 1) * page_size
    return {"items": _items(inside[start : start + page_size]), "total": len(inside)}


def answer(result: dict) -> tuple:
    return result["total"], [(item["id"], item["distance_m"]) for item in result["items"]]


def timed(function, *args) -> tuple[float, dict]:
    started = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - started
    db.session.rollback()  # as a request's teardown ends its transaction
    return seconds, result


def p50_p99(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return q[49], q[98]


def compare(app, points, radius_km: float, page_size: int) -> None:
    """measured and reference alternately on the same points; p50/p99 and the ratios."""
    with app.app_context():
        ours, reference, totals = [], [], []
        for n, (lat, lng) in enumerate(points):
            pair = [(ours, find_nearby), (reference, reference_nearby)]
            for sink, function in pair if n % 2 else reversed(pair):
                seconds, result = timed(function, lat, lng, radius_km, page_size)
                sink.append(seconds)
                if function is find_nearby:
                    totals.append(result["total"])
    (o50, o99), (r50, r99) = p50_p99(ours), p50_p99(reference)
    print(
        f"{radius_km:g} km, {len(points)} queries (median {statistics.median(totals):.0f} "
        f"within the radius, max {max(totals)}): measured p50 {o50:.2f} / p99 {o99:.2f} ms; "
        f"reference p50 {r50:.2f} / p99 {r99:.2f} ms; measured/reference p50 {o50 / r50:.2f}, "
        f"p99 {o99 / r99:.2f}"
    )


def check_against_naive(app, points, radius_km: float) -> None:
    """find_nearby gives the naive scan's answers (pages 1 and 3 of 20); naive's time."""
    with app.app_context():
        scans, ours, differ = [], [], 0
        for lat, lng in points:
            for page in (1, 3):
                seconds, expected = timed(naive_nearby, lat, lng, radius_km, 20, page)
                scans.append(seconds)
                seconds, got = timed(find_nearby, lat, lng, radius_km, 20, page)
                ours.append(seconds)
                differ += answer(got) != answer(expected)
    print(
        f"  naive full scan at {radius_km:g} km, {len(scans)} pages: median "
        f"{statistics.median(scans) * 1000:.0f} ms against {statistics.median(ours) * 1000:.2f} ms"
        f" measured (naive/measured {statistics.median(scans) / statistics.median(ours):,.0f}x);"
        f" answers that differ: {differ}"
    )
    assert not differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=1000, help="per radius")
    parser.add_argument("--naive", type=int, default=5, help="points per radius for the scan")
    parser.add_argument("--reuse", action="store_true", help="keep the imported table")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    if args.reuse and args.backend == "postgres":
        app = scale.create_app(
            {
                "SERVICE_HUB_ENV": "testing",
                "INPROCESS_TIMERS": False,
                "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                "REDIS_URL": None,
                "SQLALCHEMY_DATABASE_URI": scale.PG_URL.replace(
                    "postgresql://", "postgresql+psycopg://"
                ),
            }
        )
    else:
        csv_path = Path(scale.tempfile.mkdtemp()) / "communities.csv"
        scale.write_csv(csv_path, args.rows, args.seed)
        app = scale.build(args.backend)
        scale.timed_import(app, csv_path, "import")
    with app.app_context():
        db.session.execute(
            sa.text("CREATE INDEX IF NOT EXISTS bench_lat_lng ON community (lat, lng)")
        )
        db.session.execute(
            sa.text("ANALYZE community" if args.backend == "postgres" else "ANALYZE")
        )
        db.session.commit()
        size = db.session.scalar(sa.text("SELECT count(*) FROM community"))
        print(
            f"backend={args.backend} ({db.engine.dialect.name}), communities stored: {size:,}; "
            "reference index bench_lat_lng (lat, lng) added for this run"
        )
    rng = random.Random(args.seed + 1)
    for radius_km in (1.0, 3.0, 10.0):
        compare(app, scale.query_points(rng, args.queries), radius_km, 20)
    for radius_km in (1.0, 3.0, 10.0) if args.naive else ():
        check_against_naive(app, scale.query_points(rng, args.naive), radius_km)


if __name__ == "__main__":
    main()

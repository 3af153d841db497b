"""Benchmark: the community registry at national scale (import rows/s, nearby latency).

Run by hand, never in the test suite:
    .venv/bin/python bench/community_scale.py --backend postgres --rows 500000
    .venv/bin/python bench/community_scale.py --backend embedded --rows 50000
The postgres run uses BENCH_DATABASE_URL (default: database `bench_h1` on 127.0.0.1, created if
missing; its public schema is dropped and rebuilt by the migrations). The embedded run uses a
SQLite file in a temporary directory. Neither needs Redis: no job is queued.

It writes a CSV of communities clustered around 64 real city centres (gaussian spread, a few
deliberately bad rows), imports it through the same function as `flask import-communities`,
re-imports it unchanged, then times nearby queries near city centres through the same function
as the route and through the Flask test client, and compares a naive full scan on a sample.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from geopy.point import Point

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service_hub import create_app  # noqa: E402
from service_hub.communities.importer import COLUMNS, import_communities  # noqa: E402
from service_hub.communities.nearby import distance_m, find_nearby  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_h1")

# (city, province, lat, lng, weight): weight ~ share of the country's communities.
CITIES = [
    ("北京市", "北京市", 39.904, 116.407, 10), ("上海市", "上海市", 31.230, 121.474, 10),
    ("广州市", "广东省", 23.129, 113.264, 8), ("深圳市", "广东省", 22.543, 114.058, 8),
    ("成都市", "四川省", 30.573, 104.066, 7), ("重庆市", "重庆市", 29.563, 106.551, 7),
    ("天津市", "天津市", 39.125, 117.190, 6), ("武汉市", "湖北省", 30.593, 114.305, 6),
    ("杭州市", "浙江省", 30.274, 120.155, 6), ("西安市", "陕西省", 34.341, 108.940, 5),
    ("南京市", "江苏省", 32.060, 118.797, 5), ("苏州市", "江苏省", 31.299, 120.585, 5),
    ("郑州市", "河南省", 34.747, 113.625, 5), ("长沙市", "湖南省", 28.228, 112.939, 4),
    ("沈阳市", "辽宁省", 41.806, 123.432, 4), ("青岛市", "山东省", 36.067, 120.383, 4),
    ("济南市", "山东省", 36.651, 117.120, 4), ("哈尔滨市", "黑龙江省", 45.803, 126.535, 4),
    ("合肥市", "安徽省", 31.821, 117.227, 4), ("东莞市", "广东省", 23.021, 113.752, 4),
    ("佛山市", "广东省", 23.022, 113.122, 4), ("大连市", "辽宁省", 38.914, 121.615, 3),
    ("昆明市", "云南省", 25.038, 102.718, 3), ("福州市", "福建省", 26.075, 119.306, 3),
    ("厦门市", "福建省", 24.480, 118.089, 3), ("宁波市", "浙江省", 29.868, 121.544, 3),
    ("无锡市", "江苏省", 31.491, 120.312, 3), ("长春市", "吉林省", 43.817, 125.324, 3),
    ("石家庄市", "河北省", 38.042, 114.515, 3), ("太原市", "山西省", 37.870, 112.549, 3),
    ("南宁市", "广西壮族自治区", 22.817, 108.366, 3), ("南昌市", "江西省", 28.683, 115.858, 3),
    ("贵阳市", "贵州省", 26.647, 106.630, 2), ("乌鲁木齐市", "新疆维吾尔自治区", 43.826, 87.617, 2),
    ("兰州市", "甘肃省", 36.061, 103.834, 2), ("呼和浩特市", "内蒙古自治区", 40.842, 111.749, 2),
    ("温州市", "浙江省", 27.994, 120.699, 2), ("泉州市", "福建省", 24.874, 118.676, 2),
    ("常州市", "江苏省", 31.811, 119.974, 2), ("南通市", "江苏省", 31.980, 120.894, 2),
    ("徐州市", "江苏省", 34.205, 117.285, 2), ("烟台市", "山东省", 37.464, 121.448, 2),
    ("潍坊市", "山东省", 36.707, 119.162, 2), ("唐山市", "河北省", 39.631, 118.180, 2),
    ("银川市", "宁夏回族自治区", 38.487, 106.231, 1), ("西宁市", "青海省", 36.617, 101.778, 1),
    ("拉萨市", "西藏自治区", 29.652, 91.172, 1), ("海口市", "海南省", 20.044, 110.199, 1),
    ("三亚市", "海南省", 18.253, 109.512, 1), ("保定市", "河北省", 38.874, 115.464, 1),
    ("洛阳市", "河南省", 34.620, 112.454, 1), ("珠海市", "广东省", 22.271, 113.577, 1),
    ("惠州市", "广东省", 23.112, 114.416, 1), ("中山市", "广东省", 22.517, 113.393, 1),
    ("绍兴市", "浙江省", 30.030, 120.580, 1), ("嘉兴市", "浙江省", 30.746, 120.756, 1),
    ("金华市", "浙江省", 29.079, 119.647, 1), ("扬州市", "江苏省", 32.394, 119.413, 1),
    ("芜湖市", "安徽省", 31.353, 118.433, 1), ("柳州市", "广西壮族自治区", 24.326, 109.428, 1),
    ("包头市", "内蒙古自治区", 40.657, 109.840, 1), ("绵阳市", "四川省", 31.468, 104.679, 1),
    ("宜昌市", "湖北省", 30.692, 111.287, 1), ("株洲市", "湖南省", 27.828, 113.134, 1),
]  # fmt: skip
DISTRICTS = ["城东区", "城西区", "南湖区", "北塘区", "新城区", "高新区", "经开区", "滨江区"]
NAME_HEADS = ["翠", "锦", "华", "金", "绿", "阳光", "碧", "御", "和", "泰", "东方", "世纪"]
NAME_TAILS = ["苑", "园", "庭", "湾", "府", "城", "里", "邸", "公寓", "花园", "家园", "雅居"]
ROADS = ["人民", "解放", "建设", "中山", "和平", "长江", "黄河", "文化", "新华", "友谊"]


def spread_km(weight: int) -> float:
    """Gaussian spread of a city's communities: bigger cities sprawl further."""
    return 5.0 + 1.2 * weight


def offset(rng: random.Random, lat: float, lng: float, sigma_km: float) -> tuple[float, float]:
    """A gaussian-distributed point around (lat, lng)."""
    dlat = rng.gauss(0, sigma_km) / 111.0
    dlng = rng.gauss(0, sigma_km) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lng + dlng, 6)


def write_csv(path: Path, rows: int, seed: int) -> int:
    """Write `rows` data rows (about 1 in 1,000 bad); returns how many are bad on purpose."""
    rng = random.Random(seed)
    weights = [c[4] for c in CITIES]
    bad = 0
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n in range(1, rows + 1):
            city, province, c_lat, c_lng, weight = rng.choices(CITIES, weights)[0]
            lat, lng = offset(rng, c_lat, c_lng, spread_km(weight))
            row = [
                f"C{n:07d}",
                f"{rng.choice(NAME_HEADS)}{rng.choice(NAME_TAILS)}{n % 9 + 1}期",
                province,
                city,
                rng.choice(DISTRICTS),
                f"{rng.choice(ROADS)}路{rng.randint(1, 999)}号",
                lat,
                lng,
                max(50, int(rng.lognormvariate(6.8, 0.6))),
                rng.choices("ABCD", (10, 40, 35, 15))[0],
                "active" if rng.random() < 0.97 else "inactive",
            ]
            if n % 1000 == 500:  # a deliberately bad row, of one of five kinds
                bad += 1
                kind = (n // 1000) % 5
                if kind == 0:
                    row[6] = "北纬31度"
                elif kind == 1:
                    row[7] = 200
                elif kind == 2:
                    row[8] = -5
                elif kind == 3:
                    row[9] = "E"
                else:
                    row[0] = f"C{n - 1:07d}"  # repeats the previous row's code
            writer.writerow(row)
    return bad


def build(backend: str):
    """The app on a fresh schema built by the migrations, as tests/conftest.py does."""
    from flask_migrate import upgrade

    settings = {
        "SERVICE_HUB_ENV": "testing",
        "INPROCESS_TIMERS": False,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "REDIS_URL": None,
    }
    if backend == "postgres":
        base, name = PG_URL.rsplit("/", 1)
        admin = sa.create_engine(
            base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_URL.replace("postgresql://", "postgresql+psycopg://")
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    return app


def timed_import(app, path: Path, label: str):
    """Import the file through the CLI's function; print and return (report, seconds)."""

    def progress(rows: int, seconds: float) -> None:
        print(f"\r  {label}: {rows:,} rows, {rows / seconds:,.0f} rows/s", end="", file=sys.stderr)

    with app.app_context(), path.open("rb") as stream:
        started = time.perf_counter()
        report = import_communities(stream, progress=progress)
        seconds = time.perf_counter() - started
    print(file=sys.stderr)
    print(
        f"{label}: {report.rows:,} rows in {seconds:.1f} s = {report.rows / seconds:,.0f} rows/s "
        f"(inserted {report.inserted:,}, updated {report.updated:,}, "
        f"unchanged {report.unchanged:,}, rejected {report.rejected_total:,})"
    )
    return report, seconds


def query_points(rng: random.Random, count: int) -> list[tuple[float, float]]:
    """Query points near city centres, weighted like the communities themselves."""
    weights = [c[4] for c in CITIES]
    points = []
    for _ in range(count):
        _, _, lat, lng, weight = rng.choices(CITIES, weights)[0]
        points.append(offset(rng, lat, lng, spread_km(weight) / 2))
    return points


def percentiles(seconds: list[float]) -> str:
    """p50 / p90 / p99 / max in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:.2f} ms, p90 {q[89]:.2f} ms, p99 {q[98]:.2f} ms, max {ms[-1]:.2f} ms"


def naive_nearby(lat: float, lng: float, radius_km: float, limit: int) -> list[int]:
    """Every active community's coordinates, measured one by one: what the index saves."""
    origin = Point(lat, lng)
    rows = db.session.execute(sa.text("SELECT id, lat, lng FROM community WHERE status = 'active'"))
    distances = ((distance_m(origin, c_lat, c_lng), cid) for cid, c_lat, c_lng in rows)
    inside = sorted((d, cid) for d, cid in distances if d <= radius_km * 1000)
    return [cid for _, cid in inside[:limit]]


def bench_nearby(app, points, radius_km: float, limit: int, naive: int) -> None:
    """Time the lookup through the function and the client; compare with a naive scan."""
    with app.app_context():
        seconds, totals = [], []
        for lat, lng in points:
            started = time.perf_counter()
            result = find_nearby(lat, lng, radius_km, limit)
            seconds.append(time.perf_counter() - started)
            totals.append(result["total"])
            db.session.rollback()  # as a request's teardown ends its transaction
    print(
        f"nearby radius {radius_km:g} km, limit {limit}, {len(points)} queries (function): "
        f"{percentiles(seconds)}; within radius: median {statistics.median(totals):.0f}, "
        f"max {max(totals)}"
    )
    client = app.test_client()
    http = []
    for lat, lng in points:
        started = time.perf_counter()
        response = client.get(
            f"/api/v1/communities/nearby?lat={lat}&lng={lng}&radius_km={radius_km}&page_size={limit}"
        )
        http.append(time.perf_counter() - started)
        assert response.status_code == 200, response.json
    print(f"  through the Flask test client: {percentiles(http)}")
    if not naive:
        return
    with app.app_context():
        scans, indexed = [], []
        for lat, lng in points[:naive]:
            started = time.perf_counter()
            expected = naive_nearby(lat, lng, radius_km, limit)
            scans.append(time.perf_counter() - started)
            db.session.rollback()
            started = time.perf_counter()
            got = [item["id"] for item in find_nearby(lat, lng, radius_km, limit)["items"]]
            indexed.append(time.perf_counter() - started)
            db.session.rollback()
            assert got == expected, f"indexed and naive disagree at {lat},{lng}"
    ratio = statistics.median(scans) / statistics.median(indexed)
    print(
        f"  naive full scan, {len(scans)} queries (same answers as the index): "
        f"median {statistics.median(scans) * 1000:.0f} ms against "
        f"{statistics.median(indexed) * 1000:.2f} ms indexed: naive/indexed = {ratio:,.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--naive", type=int, default=20, help="queries for the naive scan")
    parser.add_argument("--wide", type=int, default=200, help="queries at 10 and 50 km")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp())
    csv_path = workdir / "communities.csv"
    started = time.perf_counter()
    bad = write_csv(csv_path, args.rows, args.seed)
    megabytes, seconds = csv_path.stat().st_size / 1e6, time.perf_counter() - started
    print(
        f"backend={args.backend} rows={args.rows:,} ({bad} bad on purpose) "
        f"csv={megabytes:.0f} MB written in {seconds:.1f} s"
    )
    app = build(args.backend)
    report, _ = timed_import(app, csv_path, "first import")
    assert report.rejected_total == bad, (report.rejected_total, report.rejected[:5])
    timed_import(app, csv_path, "re-import, unchanged")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE community"))
        else:
            db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        size = db.session.scalar(sa.text("SELECT count(*) FROM community"))
    print(f"communities stored: {size:,} (statistics refreshed with ANALYZE)")

    rng = random.Random(args.seed + 1)
    bench_nearby(app, query_points(rng, args.queries), 3.0, 20, args.naive)
    for radius_km in (10.0, 50.0):
        if args.wide:
            bench_nearby(app, query_points(rng, args.wide), radius_km, 20, 0)


if __name__ == "__main__":
    main()

"""Benchmark: the community home (GET /api/v1/communities/{id}) beside a bare Flask endpoint and
a one-primary-key-SELECT endpoint, in the same run, at 32 connections; then how long a change
takes to show.

    apt-get install -y wrk
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/<n> \
    .venv/bin/python bench/community_home.py --seconds 10 --rounds 3

What production runs: gunicorn with gunicorn.conf.py (2 × cores + 1 sync workers unless
WEB_CONCURRENCY says otherwise, access log written), PostgreSQL and Redis (the home cache
and the job queue), and one `flask worker` for the outbox jobs. wrk (-t2 -c32) drives, on
loopback, in rounds that alternate:
- bare: GET /ping of bench/bare_app.py under the same gunicorn settings (the ceiling);
- PK SELECT: GET /bench/community/<id> of bench/pk_select_app.py, the app itself (create_app,
  the same hooks, pool and session) with one extra plain route that reads one community by
  primary key and answers two of its fields;
- app /healthz: the app's own liveness route (flask-smorest, the same hooks, no query): the
  floor of this stack;
- home, anyone: the home of one of `--communities` communities chosen at random per request,
  without a token;
- home, resident: the same with the token of a resident bound to that community (their own
  part: bound, the coupons they may claim, one statement).
Each measured run follows a 2 s run of the same requests: the steady state (cached pages
expire 30 s after they are built; refilling many at once is not what this figure measures).
Every community has 20 engineers, 10 upcoming visits, 5 open activities, 5 questions, 8
services and 3 claim campaigns on offer. The figures are medians over rounds; the ratios are
taken per round against that round's bare figure.

Staleness: with the load stopped, an engineer announces a visit through the API
(`--changes` times) and the home is polled, each poll on a new connection (so on any web
worker), until the visit shows, and until it has shown in 30 polls in a row. The documented
bound: docs/performance.md, "Community home (issue 16, part 2)".

gunicorn.conf.py recycles a worker after 5,000 ± 500 requests; at 2,000 requests/s the app's
five workers restart within seconds of each other, each importing the app again (about 1.5 s
of CPU), and a run that falls then serves little: `--no-recycle` measures without restarts.

The database's public schema is dropped and rebuilt; the Redis database is flushed. The client
shares the machine's two cores with the servers, so every figure is a floor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import redis
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import fresh_app  # noqa: E402
from models import (  # noqa: E402
    Activity,
    ActivityCommunity,
    CommunityBinding,
    CouponCampaign,
    EngineerCommunity,
    Question,
    Resident,
    Visit,
)
from models.base import utcnow  # noqa: E402
from service_hub.auth.tokens import issue_token  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_home")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECRET = "bench-secret-key-0123456789abcdef0123456789"
CONNECTIONS = 32

RANDOM_PATH_LUA = """
local paths = {%s}
local tokens = {%s}
request = function()
  local n = math.random(#paths)
  if #tokens > 0 then
    wrk.headers["Authorization"] = tokens[n]
  end
  return wrk.format(nil, paths[n])
end
"""


def build():
    """The app on a fresh schema of the bench database."""
    return fresh_app(PG_URL, SECRET)


def seed(app, communities: int) -> dict:
    """`communities` communities with full pages; their ids, a resident token per community,
    and an engineer serving them all (for the staleness phase)."""
    ids = [f.community(app) for _ in range(communities)]
    for n in range(8):
        f.service_type(app, skill="purifier" if n % 2 else "aircon")
    engineers = [f.engineer(app) for _ in range(20)]
    manager = f.staff(app, "manager")
    start = utcnow() + timedelta(days=1)
    with app.app_context():
        db.session.execute(
            sa.insert(EngineerCommunity),
            [
                {
                    "engineer_id": engineer_id,
                    "community_id": community_id,
                    "standing": 0.3 + n / 50,
                    "completed_orders": 10 + n,
                    "standing_breakdown": {"average_rating": 4.5, "reviews": 12 + n},
                }
                for community_id in ids
                for n, engineer_id in enumerate(engineers)
            ],
        )
        db.session.execute(
            sa.insert(Visit),
            [
                {
                    "engineer_id": engineers[n],
                    "community_id": community_id,
                    "starts_at": start + timedelta(hours=n),
                    "ends_at": start + timedelta(hours=n + 2),
                    "note": "上门保养，可预约",
                }
                for community_id in ids
                for n in range(10)
            ],
        )
        residents = db.session.scalars(
            sa.insert(Resident).returning(Resident.id),
            [{"openid": f"ohome{n:027d}"} for n in range(communities)],
        ).all()
        db.session.execute(
            sa.insert(CommunityBinding),
            [{"resident_id": r, "community_id": c} for r, c in zip(residents, ids, strict=True)],
        )
        db.session.execute(
            sa.insert(Question),
            [
                {"community_id": c, "resident_id": r, "text": f"净水器滤芯多久换一次？{n}"}
                for r, c in zip(residents, ids, strict=True)
                for n in range(5)
            ],
        )
        for n in range(5):
            activity = Activity(
                title=f"社区义诊{n}",
                place="会所",
                starts_at=start + timedelta(days=n),
                ends_at=start + timedelta(days=n, hours=2),
                signup_opens_at=utcnow(),
                signup_closes_at=start,
                capacity=50,
                created_by=manager,
            )
            db.session.add(activity)
            db.session.flush()
            db.session.execute(
                sa.insert(ActivityCommunity),
                [{"activity_id": activity.id, "community_id": c} for c in ids],
            )
        for n in range(3):
            db.session.add(
                CouponCampaign(
                    title=f"清洗立减{n + 1}0元",
                    discount_kind="fixed",
                    amount_off_cents=1000 * (n + 1),
                    total_stock=100_000,
                    per_resident_limit=1,
                    starts_at=utcnow(),
                    valid_days=30,
                    targeting={"tiers": ["B"]},
                    status="active",
                    created_by=manager,
                )
            )
        db.session.commit()
        tokens = [f"Bearer {issue_token('resident', r, 'resident')[0]}" for r in residents]
    visiting = f.engineer(app, communities=tuple(ids))
    return {
        "ids": ids,
        "tokens": tokens,
        "engineer_auth": f.engineer_auth(app, visiting),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app_path: str, port: int, env: dict, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """gunicorn with the production settings, serving `app_path` on loopback; ready."""
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            *extra,
            app_path,
        ],
        cwd=ROOT,
        env={**env, "BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,  # the access log, written as in production
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # a loaded machine starts the app slowly
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    server.wait(timeout=30)
    raise RuntimeError(f"{app_path} did not start on {port}")


def cpu_seconds(master: int) -> float:
    """CPU seconds used so far by a gunicorn master, its live workers and those it reaped
    (workers are recycled after max_requests)."""
    tick = os.sysconf("SC_CLK_TCK")

    def fields(pid: int) -> list[str]:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    mine = fields(master)
    total = sum(int(v) for v in mine[11:15])  # utime, stime, cutime, cstime
    with open(f"/proc/{master}/task/{master}/children") as handle:
        for child in handle.read().split():
            with contextlib.suppress(FileNotFoundError):  # recycled in between
                total += sum(int(v) for v in fields(int(child))[11:13])
    return total / tick


def wrk(url: str, seconds: int, script: str | None = None, master: int | None = None) -> dict:
    """wrk -t2 -c32 on `url` (or the script's paths): requests/s, p50 and p99 in ms."""
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if script:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
        cmd[1:1] = ["-s", handle.name]
    cpu_before = cpu_seconds(master) if master else 0.0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu = cpu_seconds(master) - cpu_before if master else 0.0

    def pct(p: int) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "cpu_ms": 1000 * cpu / max(requests_done, 1),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": pct(50),
        "p99": pct(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def home_script(ids: list[int], tokens: list[str] | None) -> str:
    paths = ",".join(f'"/api/v1/communities/{c}"' for c in ids)
    return RANDOM_PATH_LUA % (paths, ",".join(f'"{t}"' for t in tokens or []))


def check_pages(base: str, ids: list[int], tokens: list[str]) -> None:
    """Every section is there, for anyone and for the resident (before any timing)."""
    for headers in ({}, {"Authorization": tokens[0]}):
        page = requests.get(f"{base}/api/v1/communities/{ids[0]}", headers=headers).json()
        sizes = {
            k: len(page[k])
            for k in (
                "engineers",
                "upcoming_visits",
                "open_activities",
                "recent_questions",
                "services",
                "claimable_coupons",
            )
        }
        assert all(sizes.values()), sizes
        assert page["is_bound"] is bool(headers), page["is_bound"]
    print(f"  page sections: {sizes}")


def staleness(base: str, seeded: dict, changes: int) -> list[tuple[float, float]]:
    """For each announced visit: seconds until a poll shows it, and until 30 polls in a row
    (each on a new connection, so on any web worker) have shown it."""
    results = []
    for n in range(changes):
        community_id = seeded["ids"][n % len(seeded["ids"])]
        start = utcnow() + timedelta(hours=1, minutes=n)  # before the seeded visits
        body = {
            "community_id": community_id,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "slots": [
                {
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=1)).isoformat(),
                }
            ],
        }
        url = f"{base}/api/v1/communities/{community_id}"
        requests.get(url)  # cached before the change
        began = time.perf_counter()
        response = requests.post(
            f"{base}/api/v1/engineers/me/visits", json=body, headers=seeded["engineer_auth"]
        )
        assert response.status_code == 201, response.text
        visit_id = response.json()["id"]
        first, streak = None, 0
        while streak < 30 and time.perf_counter() - began < 120:
            shown = any(v["id"] == visit_id for v in requests.get(url).json()["upcoming_visits"])
            if shown and first is None:
                first = time.perf_counter() - began
            streak = streak + 1 if shown else 0
            time.sleep(0.01)
        results.append((first, time.perf_counter() - began))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--communities", type=int, default=1, help="the home requests spread over (1: one page)"
    )
    parser.add_argument("--changes", type=int, default=5, help="visits announced (staleness)")
    parser.add_argument(
        "--no-recycle",
        action="store_true",
        help="--max-requests 0 for every server: no worker restarts during the runs (each "
        "restart of an app worker costs about 1.5 s of CPU; not what production runs)",
    )
    args = parser.parse_args()

    app = build()
    seeded = seed(app, args.communities)
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
    }
    ports = {name: free_port() for name in ("home", "bare", "pk")}
    apps = {"home": "wsgi:app", "bare": "bench.bare_app:app", "pk": "bench.pk_select_app:app"}
    servers: dict[str, subprocess.Popen] = {}
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    home = f"http://127.0.0.1:{ports['home']}"
    pk = f"http://127.0.0.1:{ports['pk']}/bench/community/{seeded['ids'][0]}"
    runs = {  # label: (url, wrk script, server)
        "bare": (f"http://127.0.0.1:{ports['bare']}/ping", None, "bare"),
        "PK SELECT": (pk, None, "pk"),
        "app /healthz": (f"{home}/healthz", None, "home"),
        "home, anyone": (home, home_script(seeded["ids"], None), "home"),
        "home, resident": (home, home_script(seeded["ids"], seeded["tokens"]), "home"),
    }
    rounds: list[dict] = []
    try:
        for name, app_path in apps.items():
            extra = ("--max-requests", "0") if args.no_recycle else ()
            servers[name] = serve(app_path, ports[name], env, extra)
        check_pages(home, seeded["ids"], seeded["tokens"])
        for url, script, _ in runs.values():  # warm every worker, pool and cache
            wrk(url, 2, script)
        for n in range(args.rounds):
            figures = {}
            for label, (url, script, server) in runs.items():
                # Pages expire 30 s after they are built: warm them (and the workers' own
                # copies) just before, so the run measures the steady state, not a refill.
                wrk(url, 2, script)
                figures[label] = wrk(url, args.seconds, script, servers[server].pid)
            rounds.append(figures)
            bare = figures["bare"]["rps"]
            print(f"round {n + 1}:")
            for label, r in figures.items():
                print(
                    f"  {label}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                    f"p99 {r['p99']:.1f} ms, non-2xx {r['non_2xx']}, "
                    f"{r['rps'] / bare:.1%} of bare; web CPU {r['cpu_ms']:.2f} ms/request"
                )
        delays = staleness(home, seeded, args.changes)
    finally:
        for process in (*servers.values(), worker):
            process.terminate()
        for process in (*servers.values(), worker):
            process.wait(timeout=30)
    workers = os.environ.get("WEB_CONCURRENCY", f"2 × {os.cpu_count()} cores + 1")
    print(
        f"gunicorn -c gunicorn.conf.py ({workers} sync workers"
        f"{', --max-requests 0' if args.no_recycle else ''}), wrk -t2 -c{CONNECTIONS} "
        f"-d{args.seconds}s, {args.rounds} rounds, {args.communities} communities; PostgreSQL "
        f"{PG_URL.rsplit('/', 1)[1]}, Redis {REDIS_URL.rsplit('/', 1)[1]}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "medians (ratio: median of the per-round ratios to bare; CPU: the web processes' CPU "
        "per request, PostgreSQL and Redis not counted, and bare's CPU per request over it):"
    )
    for label in runs:

        def median(key: str) -> float:
            return statistics.median(r[label][key] for r in rounds)  # noqa: B023

        ratio = statistics.median(r[label]["rps"] / r["bare"]["rps"] for r in rounds)
        cpu_ratio = statistics.median(r["bare"]["cpu_ms"] / r[label]["cpu_ms"] for r in rounds)
        print(
            f"  {label}: {median('rps'):.0f} req/s, p50 {median('p50'):.1f} ms, "
            f"p99 {median('p99'):.1f} ms, {ratio:.1%} of bare; "
            f"CPU {median('cpu_ms'):.2f} ms/request, {cpu_ratio:.1%}"
        )
    print(
        "staleness after a visit is announced (s): shown first "
        + ", ".join(f"{first:.2f}" if first is not None else "never" for first, _ in delays)
        + "; shown by 30 polls in a row "
        + ", ".join(f"{every:.2f}" for _, every in delays)
    )


if __name__ == "__main__":
    main()

"""Benchmark: gunicorn with its production settings (gunicorn.conf.py) under a realistic mix
(community home, nearby, order creation, inbox) driven by wrk on loopback, against a bare
Flask JSON endpoint under the same settings in the same run as the ceiling.

    apt-get install -y wrk       # Debian's package
    .venv/bin/python bench/load_mix.py --seconds 10 --connections 16

Uses PostgreSQL database `bench` and Redis db 12 (wiped), with two RQ workers taking the
dispatch jobs that order creation causes. Every loop is bounded in time and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.order_throughput import PG_URL, REDIS_URL, build  # noqa: E402
from tests import factories as f  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
PORT, BARE_PORT = 8811, 8812

ORDER_LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%s"
"""
AUTH_LUA = """
wrk.headers["Authorization"] = "%s"
"""


def seed(app):
    communities = [
        f.community(app, lat=31.2 + n * 0.001, lng=121.45 + n * 0.001) for n in range(200)
    ]
    service = f.service_type(app)
    for community_id in communities[:20]:
        for _ in range(5):
            f.engineer(app, communities=(community_id,), max_open_orders=1_000_000)
    resident = f.resident(app, communities=(communities[0],))
    app.config["SECRET_KEY"] = SECRET
    return communities[0], service, f.resident_auth(app, resident)["Authorization"]


def start(cmd, env, port):
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
        cmd[1:1] = ["-s", handle.name]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        match = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": pct(50),
        "p99": pct(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    app = build("postgres-redis")
    community_id, service_id, token = seed(app)
    venv = Path(sys.executable).parent
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "warning",
        "RATE_LIMITS": json.dumps({"login": "100000 per minute"}),
    }
    gunicorn = [str(venv / "gunicorn"), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"]
    web = start([*gunicorn, "--bind", f"127.0.0.1:{PORT}", "wsgi:app"], env, PORT)
    bare = start(
        [*gunicorn, "--bind", f"127.0.0.1:{BARE_PORT}", "bench.bare_app:app"], env, BARE_PORT
    )
    workers = [
        subprocess.Popen(
            [str(venv / "flask"), "--app", "wsgi", "worker", "--simple", "--without-scheduler"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    base = f"http://127.0.0.1:{PORT}"
    body = json.dumps({"community_id": community_id, "service_type_id": service_id})
    runs = {
        "bare Flask /ping (ceiling)": (f"http://127.0.0.1:{BARE_PORT}/ping", None),
        "GET community home": (f"{base}/api/v1/communities/{community_id}", None),
        "GET nearby 3 km": (f"{base}/api/v1/communities/nearby?lat=31.25&lng=121.5", None),
        "GET my inbox": (f"{base}/api/v1/me/inbox", AUTH_LUA % token),
        "POST order": (f"{base}/api/v1/orders", ORDER_LUA % (body, token)),
    }
    results = {}
    try:
        for label, (url, script) in runs.items():
            results[label] = wrk(url, args.seconds, args.connections, script)
    finally:
        for proc in (web, bare, *workers):
            proc.terminate()
        for proc in (web, bare, *workers):
            proc.wait(timeout=30)
    ceiling = results["bare Flask /ping (ceiling)"]["rps"]
    workers_note = os.cpu_count()
    print(
        f"gunicorn.conf.py ({workers_note} cores → {workers_note * 2 + 1} sync workers), "
        f"wrk -t2 -c{args.connections} -d{args.seconds}s on loopback"
    )
    for label, r in results.items():
        print(
            f"{label}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
            f"non-2xx {r['non_2xx']}, {r['rps'] / ceiling:.0%} of the ceiling"
        )


if __name__ == "__main__":
    main()

"""Benchmark: a broadcast to a community of 10,000 residents against the fake WeChat server
on loopback, with one and with two RQ workers, and a run where a worker is killed
mid-broadcast and restarted, ending with every resident reached exactly once.

    .venv/bin/python bench/broadcast.py --residents 10000

Uses PostgreSQL database `bench` and Redis db 12 (both wiped), like the other benchmarks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.order_throughput import PG_URL, REDIS_URL, build  # noqa: E402
from demo.fake_wechat import FakeWeChatServer  # noqa: E402
from models import (  # noqa: E402
    Delivery,
    InboxNotification,
)
from notifications import fanout  # noqa: E402
from service_hub.plumbing import outbox  # noqa: E402
from service_hub.plumbing.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402


def prepare(residents: int, fake: FakeWeChatServer):
    app = build("postgres-redis")
    app.config.update(WECHAT_API_BASE=fake.base_url, QUIET_HOURS="00:00-00:00")
    community_id = f.community(app, household_count=residents)
    f.subscription_credits(app, f.many_residents(app, community_id, residents), "visit_announced")
    return app, community_id


def announce(app, community_id: int, key: str) -> float:
    started = time.perf_counter()
    with app.app_context():
        outbox.record(
            "visit_announced",
            key,
            {
                "kind": "visit_announced",
                "community_id": community_id,
                "visit_id": 1,
                "engineer_name": "张师傅",
                "community_name": "基准小区",
                "local_start": "2026年12月1日 10:00",
            },
        )
        outbox.commit_and_relay()
    return started


def workers(count: int, fake: FakeWeChatServer) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "SERVICE_HUB_ENV": "testing",
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "WECHAT_API_BASE": fake.base_url,
        "QUIET_HOURS": "00:00-00:00",
        "PYTHONPATH": str(ROOT),
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "worker",
                "--simple",
                "--burst",
                "--without-scheduler",
                "notifications",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        inbox = db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification))
        sent = db.session.scalar(sa.select(sa.func.count()).where(Delivery.status == "sent"))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
    return inbox, sent, total


def timed_run(residents: int, worker_count: int) -> None:
    with FakeWeChatServer() as fake:
        app, community_id = prepare(residents, fake)
        started = announce(app, community_id, f"visit:bench:{worker_count}")
        procs = workers(worker_count, fake)
        for proc in procs:
            proc.wait(timeout=1800)
        seconds = time.perf_counter() - started
        inbox, sent, total = counts(app)
        with app.app_context():
            first = db.session.scalar(sa.select(sa.func.min(Delivery.created_at)))
            fanned = db.session.scalar(sa.select(sa.func.max(Delivery.created_at)))
        print(
            f"{worker_count} worker(s): {residents} residents in {seconds:.1f} s → "
            f"{sent / seconds:.0f} WeChat messages/s, inbox {inbox}, sent {sent}/{total}; "
            f"fan-out (first to last delivery row) {(fanned - first).total_seconds():.1f} s"
        )


def killed_run(residents: int) -> None:
    with FakeWeChatServer() as fake:
        app, community_id = prepare(residents, fake)
        announce(app, community_id, "visit:bench:kill")
        [proc] = workers(1, fake)
        while counts(app)[1] < residents // 4:
            time.sleep(0.2)
        proc.kill()
        proc.wait()
        print(f"killed the worker with {counts(app)[1]} sent")
        with app.app_context():
            fanout.reconcile(reconcile_after=timedelta(0), interrupted_after=timedelta(0))
        [proc] = workers(1, fake)
        proc.wait(timeout=1800)
        inbox, sent, total = counts(app)
        to = [m["touser"] for m in fake.state.sent_messages]
        print(
            f"after restart: inbox {inbox}, deliveries {total}, sent {sent}, WeChat got "
            f"{len(to)} messages for {len(set(to))} distinct residents "
            f"({'exactly once' if len(to) == len(set(to)) == residents else 'MISMATCH'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument(
        "--runs", default="1,2,kill", help="which runs: 1 and 2 workers, and the killed-worker run"
    )
    args = parser.parse_args()
    runs = args.runs.split(",")
    for count in ("1", "2"):
        if count in runs:
            timed_run(args.residents, int(count))
    if "kill" in runs:
        killed_run(args.residents)


if __name__ == "__main__":
    main()

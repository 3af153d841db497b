"""Benchmark: ranking one order over 50 and 500 candidate engineers, beside the ranking it
replaced (geopy objects per candidate, tests/ranking_before.py) in the same run.

    .venv/bin/python bench/ranking.py [--rounds 2000]

Times the pure ranking function (filters, great-circle distance, weighted score, sort), which
is what dispatch runs per order after loading the candidates, plus reading the offered
engineer's breakdown as dispatch does. The two rankings alternate call by call, so the
machine's load falls on both alike; each checks it returned the same order.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch.ranking import Candidate, OrderNeeds, rank  # noqa: E402
from service_hub.plumbing.config import DEFAULT_DISPATCH_WEIGHTS  # noqa: E402
from tests.ranking_before import rank_before  # noqa: E402

HOME = (31.23, 121.47)


def candidates(count: int, rng: random.Random) -> list[Candidate]:
    return [
        Candidate(
            engineer_id=n,
            serves_community=True,
            skills={"purifier": rng.randint(1, 5), "aircon": rng.randint(1, 5)},
            on_duty=rng.random() > 0.1,
            open_orders=rng.randint(0, 5),
            max_open_orders=5,
            standing=rng.random(),
            base=(HOME[0] + rng.gauss(0, 0.1), HOME[1] + rng.gauss(0, 0.1)),
            working_hours={"days": [1, 2, 3, 4, 5, 6], "start": "08:00", "end": "20:00"},
        )
        for n in range(count)
    ]


def percentile(timings: list[float], p: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="rankings per size and kind")
    args = parser.parse_args()
    rng = random.Random(7)
    needs = OrderNeeds(
        "purifier",
        2,
        HOME,
        preferred_engineer_id=3,
        excluded_engineer_ids=frozenset({1, 2}),
        local_window=(3, "10:00", "12:00"),
    )
    weights = DEFAULT_DISPATCH_WEIGHTS
    for count in (50, 500):
        pool = candidates(count, rng)
        now, before = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            eligible, _rejected = rank(pool, needs, weights)
            _offered = eligible[0].breakdown  # what dispatch stores on the order
            now.append(time.perf_counter() - started)
            started = time.perf_counter()
            old, _rejected = rank_before(pool, needs, weights)
            before.append(time.perf_counter() - started)
        assert [s.engineer_id for s in eligible] == [s[0] for s in old]
        assert eligible[0].breakdown == old[0][2]
        p50, p99 = statistics.median(now), percentile(now, 0.99)
        ref50, ref99 = statistics.median(before), percentile(before, 0.99)
        print(
            f"{count} candidates ({len(eligible)} eligible, {args.rounds} rounds): "
            f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms; "
            f"before (geopy objects) p50 {ref50 * 1000:.2f} ms, p99 {ref99 * 1000:.2f} ms; "
            f"ratio p50 {p50 / ref50:.2f}, p99 {p99 / ref99:.2f} (goal at 500: p99 < 2 ms)"
        )


if __name__ == "__main__":
    main()

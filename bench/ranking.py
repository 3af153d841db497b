"""Benchmark: ranking one order over 50 and 500 candidate engineers.

    .venv/bin/python bench/ranking.py

Times the pure ranking function (filters, geodesic distance, weighted score, sort), which is
what dispatch runs per order after loading the candidates.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch.ranking import Candidate, OrderNeeds, rank  # noqa: E402
from service_hub.plumbing.config import DEFAULT_DISPATCH_WEIGHTS  # noqa: E402

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


def main() -> None:
    rng = random.Random(7)
    needs = OrderNeeds(
        "purifier",
        2,
        HOME,
        preferred_engineer_id=3,
        excluded_engineer_ids=frozenset({1, 2}),
        local_window=(3, "10:00", "12:00"),
    )
    for count in (50, 500):
        pool = candidates(count, rng)
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            eligible, _rejected = rank(pool, needs, DEFAULT_DISPATCH_WEIGHTS)
            timings.append(time.perf_counter() - started)
        timings.sort()
        print(
            f"{count} candidates: p50 {statistics.median(timings) * 1000:.2f} ms, "
            f"p99 {timings[int(len(timings) * 0.99) - 1] * 1000:.2f} ms "
            f"({len(eligible)} eligible)"
        )


if __name__ == "__main__":
    main()

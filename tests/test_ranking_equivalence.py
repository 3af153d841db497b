"""The fast ranking gives exactly the order, scores and breakdowns the geopy-based one gave."""

import random

import pytest
from geopy.distance import great_circle

from dispatch.ranking import Candidate, OrderNeeds, rank, score
from service_hub.plumbing.config import DEFAULT_DISPATCH_WEIGHTS
from tests.ranking_before import rank_before

HOME = (31.23, 121.47)


def random_world(rng: random.Random) -> tuple[list[Candidate], OrderNeeds, dict[str, float]]:
    """Candidates drawn from few values so that many scores tie, one order, some weights."""
    bases = [(HOME[0] + rng.gauss(0, 0.1), HOME[1] + rng.gauss(0, 0.1)) for _ in range(4)]
    count = rng.choice([1, 2, 7, 50, 500])
    candidates = [
        Candidate(
            engineer_id=rng.randint(1, 10 * count),
            serves_community=rng.random() > 0.05,
            skills={"purifier": rng.randint(1, 5)} if rng.random() > 0.05 else {"aircon": 3},
            on_duty=rng.random() > 0.1,
            open_orders=rng.randint(0, 5),
            max_open_orders=rng.choice([0, 3, 5]),
            standing=rng.choice([0.0, 0.25, 0.5, 0.8, 1.0, -0.1, 1.2, rng.random()]),
            base=rng.choice(bases + [HOME]),
            is_butler=rng.random() < 0.1,
            working_hours=rng.choice(
                [None, {"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "20:00"}]
            ),
        )
        for _ in range(count)
    ]
    needs = OrderNeeds(
        "purifier",
        rng.randint(1, 3),
        HOME,
        preferred_engineer_id=rng.choice([None, *[c.engineer_id for c in candidates[:3]]]),
        excluded_engineer_ids=frozenset(
            c.engineer_id for c in candidates[:2] if rng.random() < 0.3
        ),
        local_window=rng.choice([None, (3, "10:00", "12:00"), (7, "10:00", "12:00")]),
    )
    weights = rng.choice(
        [
            DEFAULT_DISPATCH_WEIGHTS,
            {"standing": 0.5, "distance": 0.5},
            {name: round(rng.random(), 2) for name in DEFAULT_DISPATCH_WEIGHTS},
        ]
    )
    return candidates, needs, weights


@pytest.mark.parametrize("seed", range(40))
def test_random_candidates_rank_in_the_same_order_with_the_same_breakdowns(seed):
    candidates, needs, weights = random_world(random.Random(seed))
    eligible, rejected = rank(candidates, needs, weights)
    before, rejected_before = rank_before(candidates, needs, weights)
    assert [(s.engineer_id, s.score, s.breakdown) for s in eligible] == before
    assert rejected == rejected_before


def test_the_shown_distance_is_geopys_great_circle_to_the_bit():
    rng = random.Random(16)
    for _ in range(5000):
        base = (rng.uniform(-89, 89), rng.uniform(-179, 179))
        near = (base[0] + rng.gauss(0, 0.2), base[1] + rng.gauss(0, 0.2))
        town = (rng.uniform(-89, 89), rng.uniform(-179, 179))
        for community in (near, town):
            needs = OrderNeeds("purifier", 1, community)
            engineer = Candidate(1, True, {"purifier": 1}, True, 0, 5, 0.5, base)
            scored = score(engineer, needs, DEFAULT_DISPATCH_WEIGHTS)
            assert scored.figures[3] == great_circle(base, community).km

"""Dispatch ranking as it was before issue 16 (geopy objects per candidate), kept verbatim as
the reference that tests/test_ranking_equivalence.py and bench/ranking.py compare against.
"""

from __future__ import annotations

from geopy.distance import great_circle

from dispatch.ranking import MAX_USEFUL_DISTANCE_KM, Candidate, OrderNeeds, rejection_reason


def score_before(
    candidate: Candidate, needs: OrderNeeds, weights: dict[str, float]
) -> tuple[int, float, dict]:
    """The weighted score of an eligible candidate; every component is 0..1 before weighting."""
    # Great-circle (spherical) distance: within 0.5% of the geodesic at these ranges and
    # about ten times cheaper, which matters with hundreds of candidates per order.
    distance_km = great_circle(candidate.base, needs.community_location).km
    components = {
        "standing": max(0.0, min(1.0, candidate.standing)),
        "distance": max(0.0, 1.0 - distance_km / MAX_USEFUL_DISTANCE_KM),
        "load": 1.0 - candidate.open_orders / max(candidate.max_open_orders, 1),
        "preferred": 1.0 if candidate.engineer_id == needs.preferred_engineer_id else 0.0,
        "butler": 1.0 if candidate.is_butler else 0.0,
    }
    weighted = {
        name: round(value * weights.get(name, 0.0), 6) for name, value in components.items()
    }
    breakdown = {
        "components": {name: round(value, 6) for name, value in components.items()},
        "weights": {name: weights.get(name, 0.0) for name in components},
        "weighted": weighted,
        "distance_km": round(distance_km, 3),
        "total": round(sum(weighted.values()), 6),
    }
    return candidate.engineer_id, breakdown["total"], breakdown


def rank_before(
    candidates: list[Candidate], needs: OrderNeeds, weights: dict[str, float]
) -> tuple[list[tuple[int, float, dict]], dict[int, str]]:
    """Eligible candidates best first (ties to the lower id), and why the others were not.

    An eligible preferred engineer always comes first: the resident asked for them. Then the
    resident's butler (管家), if eligible: the relationship the product exists to build.
    """
    butlers = {c.engineer_id for c in candidates if c.is_butler}
    eligible: list[tuple[int, float, dict]] = []
    rejected: dict[int, str] = {}
    for candidate in candidates:
        reason = rejection_reason(candidate, needs)
        if reason:
            rejected[candidate.engineer_id] = reason
        else:
            eligible.append(score_before(candidate, needs, weights))
    eligible.sort(
        key=lambda s: (
            s[0] != needs.preferred_engineer_id,
            s[0] not in butlers,
            -s[1],
            s[0],
        )
    )
    return eligible, rejected

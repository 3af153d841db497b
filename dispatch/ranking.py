"""Rank candidate engineers for one order: hard filters first, then an explainable score.

Pure functions over plain data, so every rule is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geopy.distance import great_circle

# Beyond this distance the distance component contributes nothing.
MAX_USEFUL_DISTANCE_KM = 30.0


@dataclass(frozen=True)
class Candidate:
    """What ranking needs to know about one engineer, for one community."""

    engineer_id: int
    serves_community: bool
    skills: dict[str, int]  # skill → level
    on_duty: bool
    open_orders: int
    max_open_orders: int
    standing: float  # 0..1, this engineer's standing in this community
    base: tuple[float, float]  # (lat, lng)
    is_butler: bool = False
    # {"days": [1..7], "start": "HH:MM", "end": "HH:MM"} in local time; None = any time.
    working_hours: dict | None = None


@dataclass(frozen=True)
class OrderNeeds:
    """What the order asks for."""

    skill: str
    min_level: int
    community_location: tuple[float, float]
    preferred_engineer_id: int | None = None
    excluded_engineer_ids: frozenset[int] = field(default_factory=frozenset)
    # The requested window in local time: (ISO weekday, "HH:MM" start, "HH:MM" end).
    local_window: tuple[int, str, str] | None = None


@dataclass(frozen=True)
class Scored:
    """A candidate who passed the filters, with the score and its breakdown."""

    engineer_id: int
    score: float
    breakdown: dict


def rejection_reason(candidate: Candidate, needs: OrderNeeds) -> str | None:
    """Why a candidate cannot take this order at all, or None if they can."""
    if not candidate.serves_community:
        return "does_not_serve_community"
    level = candidate.skills.get(needs.skill)
    if level is None:
        return "lacks_skill"
    if level < needs.min_level:
        return "skill_level_too_low"
    if not candidate.on_duty:
        return "off_duty"
    if not works_during(candidate.working_hours, needs.local_window):
        return "outside_working_hours"
    if candidate.open_orders >= candidate.max_open_orders:
        return "at_max_load"
    if candidate.engineer_id in needs.excluded_engineer_ids:
        return "already_offered"
    return None


def works_during(hours: dict | None, window: tuple[int, str, str] | None) -> bool:
    """Whether working hours cover the window (no hours or no window: yes)."""
    if not hours or not window:
        return True
    weekday, start, end = window
    return weekday in hours["days"] and hours["start"] <= start and end <= hours["end"]


def score(candidate: Candidate, needs: OrderNeeds, weights: dict[str, float]) -> Scored:
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
    return Scored(candidate.engineer_id, breakdown["total"], breakdown)


def rank(
    candidates: list[Candidate], needs: OrderNeeds, weights: dict[str, float]
) -> tuple[list[Scored], dict[int, str]]:
    """Eligible candidates best first (ties to the lower id), and why the others were not.

    An eligible preferred engineer always comes first: the resident asked for them. Then the
    resident's butler (管家), if eligible: the relationship the product exists to build.
    """
    butlers = {c.engineer_id for c in candidates if c.is_butler}
    eligible: list[Scored] = []
    rejected: dict[int, str] = {}
    for candidate in candidates:
        reason = rejection_reason(candidate, needs)
        if reason:
            rejected[candidate.engineer_id] = reason
        else:
            eligible.append(score(candidate, needs, weights))
    eligible.sort(
        key=lambda s: (
            s.engineer_id != needs.preferred_engineer_id,
            s.engineer_id not in butlers,
            -s.score,
            s.engineer_id,
        )
    )
    return eligible, rejected

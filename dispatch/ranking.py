"""Rank candidate engineers for one order: hard filters first, then an explainable score.

Pure functions over plain data, so every rule is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from math import atan2, cos, radians, sin, sqrt

from geopy.distance import EARTH_RADIUS

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


# The score's components, in the order the breakdown lists them and the total adds them.
COMPONENTS = ("standing", "distance", "load", "preferred", "butler")


@dataclass(frozen=True)
class Scored:
    """A candidate who passed the filters, with the score and its breakdown.

    Dispatch explains only the engineer it offers to, so the breakdown is built when first
    read, from the raw figures kept here (the total is already exact: ranking sorts on it).
    """

    engineer_id: int
    score: float
    # (raw components, rounded weighted values, weights) in COMPONENTS order, raw distance.
    figures: tuple = field(repr=False, compare=False)

    @cached_property
    def breakdown(self) -> dict:
        """Components, weights, weighted values, distance and total, as stored on the order."""
        components, weighted, weights, distance_km = self.figures
        return {
            "components": {n: round(v, 6) for n, v in zip(COMPONENTS, components, strict=True)},
            "weights": dict(zip(COMPONENTS, weights, strict=True)),
            "weighted": dict(zip(COMPONENTS, weighted, strict=True)),
            "distance_km": round(distance_km, 3),
            "total": self.score,
        }


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


class _Scorer:
    """What is the same for every candidate of one order, computed once."""

    __slots__ = ("lng", "sin_lat", "cos_lat", "weights", "flag_weighted", "preferred_id")

    def __init__(self, needs: OrderNeeds, weights: dict[str, float]) -> None:
        lat = radians(float(needs.community_location[0]))
        self.lng = radians(float(needs.community_location[1]))
        self.sin_lat = sin(lat)
        self.cos_lat = cos(lat)
        self.weights = tuple(weights.get(name, 0.0) for name in COMPONENTS)
        # preferred and butler are 0.0 or 1.0: their rounded weighted values, both ways.
        self.flag_weighted = tuple(
            (round(0.0 * weight, 6), round(1.0 * weight, 6)) for weight in self.weights[3:]
        )
        self.preferred_id = needs.preferred_engineer_id

    def score(self, candidate: Candidate) -> Scored:
        """The weighted score; every component is 0..1 before weighting."""
        # Great-circle (spherical) distance: within 0.5% of the geodesic at these ranges and
        # about ten times cheaper, which matters with hundreds of candidates per order.
        # geopy's great_circle(base, community).km operation for operation, without its
        # objects: the same float operations in the same order give the same bits (a test
        # compares them with geopy on random points), so the distance shown is geopy's.
        # Building geopy's Point and Distance objects was over half of ranking's time.
        base = candidate.base
        lat1 = radians(float(base[0]))
        sin_lat1, cos_lat1 = sin(lat1), cos(lat1)
        sin_lat2, cos_lat2 = self.sin_lat, self.cos_lat
        delta_lng = self.lng - radians(float(base[1]))
        cos_delta_lng, sin_delta_lng = cos(delta_lng), sin(delta_lng)
        distance_km = EARTH_RADIUS * atan2(
            sqrt(
                (cos_lat2 * sin_delta_lng) ** 2
                + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta_lng) ** 2
            ),
            sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta_lng,
        )
        w = self.weights
        standing = max(0.0, min(1.0, candidate.standing))
        nearness = max(0.0, 1.0 - distance_km / MAX_USEFUL_DISTANCE_KM)
        load = 1.0 - candidate.open_orders / max(candidate.max_open_orders, 1)
        preferred = candidate.engineer_id == self.preferred_id
        butler = candidate.is_butler
        weighted = (
            round(standing * w[0], 6),
            round(nearness * w[1], 6),
            round(load * w[2], 6),
            self.flag_weighted[0][1 if preferred else 0],
            self.flag_weighted[1][1 if butler else 0],
        )
        # Added left to right, as sum() over the breakdown's dict did.
        total = round(weighted[0] + weighted[1] + weighted[2] + weighted[3] + weighted[4], 6)
        components = (
            standing,
            nearness,
            load,
            1.0 if preferred else 0.0,
            1.0 if butler else 0.0,
        )
        return Scored(candidate.engineer_id, total, (components, weighted, w, distance_km))


def score(candidate: Candidate, needs: OrderNeeds, weights: dict[str, float]) -> Scored:
    """The weighted score of an eligible candidate; every component is 0..1 before weighting."""
    return _Scorer(needs, weights).score(candidate)


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
    scorer = _Scorer(needs, weights)
    for candidate in candidates:
        reason = rejection_reason(candidate, needs)
        if reason:
            rejected[candidate.engineer_id] = reason
        else:
            eligible.append(scorer.score(candidate))
    eligible.sort(
        key=lambda s: (
            s.engineer_id != needs.preferred_engineer_id,
            s.engineer_id not in butlers,
            -s.score,
            s.engineer_id,
        )
    )
    return eligible, rejected

"""The standing of an engineer in one community: a pure function of the facts.

Quality: a Bayesian-smoothed average rating, so one lucky 5-star review cannot top two
hundred 4.9s; a smoothed complaint rate; likes. Quantity: completed orders in the community,
each weighing less as it ages (half-life decay). The formula and its defaults are in
docs/ranking.md; the weights come from configuration (STANDING_WEIGHTS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

DEFAULT_STANDING_WEIGHTS = {
    "quality": 0.55,
    "volume": 0.30,
    "likes": 0.15,
    "complaints": 0.50,
    # smoothing and scale constants
    "prior_rating": 4.0,  # what we believe of an engineer with no reviews yet
    "prior_weight": 10,  # how many reviews that belief is worth
    "complaint_smoothing": 5,  # completed orders added to the denominator
    "likes_half": 5,  # likes at which the likes term reaches one half
    "volume_half": 10,  # decayed completed orders at which the volume term reaches one half
    "half_life_days": 180,  # a completion counts half after this many days
}


@dataclass(frozen=True)
class StandingFacts:
    """What happened between one engineer and one community."""

    rating_count: int
    rating_sum: int
    complaints: int
    likes: int
    completed_on: tuple[date, ...]  # local dates of completed orders


def standing(facts: StandingFacts, as_of: date, weights: dict[str, float]) -> tuple[float, dict]:
    """(standing in 0..1, what it is made of) for the facts, with decay measured up to `as_of`."""
    w = {**DEFAULT_STANDING_WEIGHTS, **weights}
    bayes = (w["prior_weight"] * w["prior_rating"] + facts.rating_sum) / (
        w["prior_weight"] + facts.rating_count
    )
    quality = (bayes - 1) / 4
    completed = len(facts.completed_on)
    complaint_rate = facts.complaints / (completed + w["complaint_smoothing"])
    likes = facts.likes / (facts.likes + w["likes_half"])
    decay = math.log(2) / w["half_life_days"]
    decayed = sum(math.exp(-decay * max(0, (as_of - day).days)) for day in facts.completed_on)
    volume = decayed / (decayed + w["volume_half"])
    raw = (
        w["quality"] * quality
        + w["volume"] * volume
        + w["likes"] * likes
        - w["complaints"] * complaint_rate
    )
    value = round(min(1.0, max(0.0, raw)), 6)
    breakdown = {
        "standing": value,
        "bayesian_rating": round(bayes, 4),
        "quality": round(quality, 4),
        "reviews": facts.rating_count,
        "average_rating": round(facts.rating_sum / facts.rating_count, 3)
        if facts.rating_count
        else None,
        "complaints": facts.complaints,
        "complaint_rate": round(complaint_rate, 4),
        "likes": facts.likes,
        "likes_term": round(likes, 4),
        "completed_orders": completed,
        "decayed_completed": round(decayed, 3),
        "volume": round(volume, 4),
        "weights": {k: w[k] for k in ("quality", "volume", "likes", "complaints")},
        "as_of": as_of.isoformat(),
    }
    return value, breakdown

"""KPI figures worked out from one month's rollup (and the month before and a year before):
per-1,000-household rates, month over month (环比), year over year (同比), the satisfaction
index and health warnings. Pure functions; docs/kpis.md gives the formulas."""

from __future__ import annotations

SATISFACTION_PRIOR = (4.0, 5)  # Bayesian prior rating and its weight in reviews
MIN_ORDERS_FOR_TREND = 5


def per_1000(count: int, households: int) -> float | None:
    """count per 1,000 households, or None for a community without households on record."""
    return round(count * 1000 / households, 3) if households else None


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change (0.25 = +25%), or None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return round((current - previous) / previous, 4)


def satisfaction_index(
    rating_sum: int, rating_count: int, complaints: int, completed: int, on_time: int, arrivals: int
) -> float:
    """0–100: 50% smoothed rating, 30% absence of complaints, 20% punctuality."""
    prior, weight = SATISFACTION_PRIOR
    rating = (prior * weight + rating_sum) / (weight + rating_count)
    rating_part = (rating - 1) / 4
    complaint_part = 1 - min(1.0, 5 * complaints / max(completed, 1))
    punctuality = on_time / arrivals if arrivals else 1.0
    return round(100 * (0.5 * rating_part + 0.3 * complaint_part + 0.2 * punctuality), 1)


def health_warnings(now: dict, before: dict | None) -> list[str]:
    """What a manager should look at in this community this month."""
    warnings = []
    previous_orders = before["orders"] if before else 0
    if previous_orders >= MIN_ORDERS_FOR_TREND and now["orders"] <= 0.7 * previous_orders:
        warnings.append("falling_volume")
    if before and now["complaints"] > before["complaints"] and now["complaints"] >= 2:
        warnings.append("rising_complaints")
    if (
        now["rating_count"] >= 5
        and now["average_rating"] is not None
        and now["average_rating"] < 4.0
    ):
        warnings.append("low_rating")
    if now["orders"] >= 3 and now["completed"] == 0:
        warnings.append("no_engineer_active")
    return warnings

"""KPI figures worked out from one month's rollup (and the month before and a year before):
per-1,000-household rates, month over month (环比), year over year (同比), the satisfaction
index, first-time fix and health warnings. Pure functions, and `KPIS`, the one list of what
each figure is called, means and whether more of it is better; docs/kpis.md gives the
formulas."""

from __future__ import annotations

from dataclasses import dataclass

from models.kpi import SATISFACTION_PRIOR  # Bayesian prior rating and its weight in reviews

MIN_ORDERS_FOR_TREND = 5  # falling_volume: last month had at least this many orders …
FALL_RATIO = 0.7  # … and this month has at most this share of them
MIN_RISING_COMPLAINTS = 2  # rising_complaints: at least this many, and more than last month
MIN_RATINGS = 5  # low_rating: at least this many ratings …
LOW_RATING = 4.0  # … averaging under this
MIN_ORDERS_IDLE = 3  # no_engineer_active: at least this many orders and none completed


@dataclass(frozen=True)
class Kpi:
    """What a KPI row field is, for people: its label, a one-line definition, how to show it
    (text, count, number, rate 0.1 → 10 %, change ±%, list, context: not a column) and
    whether a higher value is better (None: neither, e.g. a size)."""

    label: str
    definition: str
    kind: str
    higher_is_better: bool | None = None


KPIS: dict[str, Kpi] = {
    "community_id": Kpi("小区编号", "小区的编号", "context"),
    "community_name": Kpi("小区", "小区名称", "text"),
    "tier": Kpi("等级", "小区等级（A–D）", "text"),
    "month": Kpi("月份", "统计月份（当地时间自然月）", "context"),
    "partial_month": Kpi("未结束", "该月尚未结束：环比、同比与预警不计算", "context"),
    "household_count": Kpi("户数", "小区登记的住户数", "count"),
    "orders": Kpi("订单量", "当月新建的服务订单数", "count", True),
    "completed": Kpi("完成", "当月完成的订单数", "count", True),
    "cancelled": Kpi("取消", "当月取消的订单数", "count", False),
    "complaints": Kpi("投诉", "当月居民对已完成订单的投诉数", "count", False),
    "orders_per_1000": Kpi("千户服务量", "每千户当月订单数：订单量 × 1000 ÷ 户数", "number", True),
    "complaints_per_1000": Kpi(
        "千户投诉量", "每千户当月投诉数：投诉 × 1000 ÷ 户数", "number", False
    ),
    "orders_mom": Kpi("服务量环比", "订单量较上月的变化（上月为 0 时不计）", "change", True),
    "orders_yoy": Kpi("服务量同比", "订单量较去年同月的变化", "change", True),
    "complaints_mom": Kpi("投诉量环比", "投诉数较上月的变化", "change", False),
    "complaints_yoy": Kpi("投诉量同比", "投诉数较去年同月的变化", "change", False),
    "orders_per_1000_mom": Kpi("千户服务量环比", "千户服务量较上月的变化", "change", True),
    "complaints_per_1000_mom": Kpi("千户投诉量环比", "千户投诉量较上月的变化", "change", False),
    "average_rating": Kpi("平均评分", "当月评价的平均星级（1–5），无评价不计", "number", True),
    "accept_minutes": Kpi("平均接单分钟", "从下单到师傅接单的平均分钟数", "number", False),
    "on_time_rate": Kpi(
        "准时到达率", "约了时段的订单中，时段开始后 15 分钟内开工的比例", "rate", True
    ),
    "active_residents": Kpi("活跃居民", "当月下过单的居民人数", "count", True),
    "sla_breaches": Kpi("超时次数", "当月违反服务时限（接单、上门、完工）的次数", "count", False),
    "urges": Kpi("催单次数", "当月居民催单的次数", "count", False),
    "repeat_visits": Kpi("二次上门", "当月新建的二次上门订单数", "count", False),
    "disputes": Kpi("验收异议", "当月居民对完工服务提出验收异议的次数", "count", False),
    "first_time_fix_rate": Kpi(
        "一次修复率", "1 − 二次上门 ÷ 完成订单（无完成订单不计）", "rate", True
    ),
    "satisfaction_index": Kpi(
        "满意度指数",
        "0–100：平滑评分占 50%、无投诉占 30%、准时占 20%；当月无评价不计分",
        "number",
        True,
    ),
    "health_warnings": Kpi("预警", "服务量下降、投诉上升、评分偏低或有单无人完成", "list"),
}

# Health warning codes: label and what each means (the rule is health_warnings below and,
# for the warnings list, the same thresholds as SQL in queries.warning_conditions).
WARNINGS: dict[str, dict[str, str]] = {
    "falling_volume": {
        "label": "服务量下降",
        "definition": "订单量不足上月的 70%（上月至少 5 单）",
    },
    "rising_complaints": {"label": "投诉上升", "definition": "投诉多于上月，且至少 2 起"},
    "low_rating": {"label": "评分偏低", "definition": "至少 5 条评价，平均不足 4 星"},
    "no_engineer_active": {"label": "无活跃师傅", "definition": "至少 3 单，一单未完成"},
}


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
) -> float | None:
    """0–100: 50% smoothed rating, 30% absence of complaints, 20% punctuality; None for a
    month without ratings (a prior alone is no score, and must not rank the community)."""
    if not rating_count:
        return None
    prior, weight = SATISFACTION_PRIOR
    rating = (prior * weight + rating_sum) / (weight + rating_count)
    rating_part = (rating - 1) / 4
    complaint_part = 1 - min(1.0, 5 * complaints / max(completed, 1))
    punctuality = on_time / arrivals if arrivals else 1.0
    return round(100 * (0.5 * rating_part + 0.3 * complaint_part + 0.2 * punctuality), 1)


def first_time_fix_rate(repeat_visits: int, completed: int) -> float | None:
    """1 − second visits / orders completed (not below 0), or None without completions."""
    if not completed:
        return None
    return round(max(0.0, 1 - repeat_visits / completed), 4)


def health_warnings(now: dict, before: dict | None) -> list[str]:
    """What a manager should look at in this community this (complete) month.

    `now` and `before` hold the month's counts: orders, complaints, completed, rating_count
    and rating_sum (or average_rating); `before` is None when last month had no rollup.
    """
    warnings = []
    previous_orders = before["orders"] if before else 0
    if previous_orders >= MIN_ORDERS_FOR_TREND and now["orders"] <= FALL_RATIO * previous_orders:
        warnings.append("falling_volume")
    if (
        before
        and now["complaints"] > before["complaints"]
        and now["complaints"] >= MIN_RISING_COMPLAINTS
    ):
        warnings.append("rising_complaints")
    if now["rating_count"] >= MIN_RATINGS:
        # The exact sum, not the rounded average, so this agrees with the SQL rule.
        rating_sum = now.get("rating_sum")
        if rating_sum is None:
            rating_sum = now["average_rating"] * now["rating_count"]
        if rating_sum < LOW_RATING * now["rating_count"]:
            warnings.append("low_rating")
    if now["orders"] >= MIN_ORDERS_IDLE and now["completed"] == 0:
        warnings.append("no_engineer_active")
    return warnings

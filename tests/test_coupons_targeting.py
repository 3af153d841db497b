"""Targeting rules: one community judged in Python and all of them in SQL agree."""

from datetime import UTC, datetime, timedelta

import pytest

from models.base import utcnow
from service_hub.coupons.targeting import (
    Place,
    places,
    reached_community_ids,
    reaches,
    resident_is_new,
    volume_month,
)
from tests import factories as f
from tests.test_coupons_support import orders_last_month


def place(**overrides) -> Place:
    fields = {
        "id": 1,
        "name": "测试小区",
        "status": "active",
        "tier": "B",
        "province": "上海市",
        "city": "上海市",
        "district": "徐汇区",
        "lat": 31.19,
        "lng": 121.44,
        "household_count": 1000,
        "orders_last_month": 5,
        **overrides,
    }
    return Place(**fields)


def test_no_rules_reach_every_active_community():
    assert reaches({}, None, place())
    assert not reaches({}, None, place(status="closed"))


def test_the_campaigns_region_scope_always_applies():
    assert reaches({}, "上海市", place())
    assert not reaches({}, "北京市", place())


@pytest.mark.parametrize(
    ("band", "expected"),
    [({"min": 5}, True), ({"max": 5}, False), ({"min": 2, "max": 6}, True), ({"min": 6}, False)],
)
def test_the_volume_band_includes_its_minimum_and_excludes_its_maximum(band, expected):
    assert reaches({"orders_per_1000": band}, None, place()) is expected


def test_a_community_without_households_has_no_volume_band():
    assert not reaches({"orders_per_1000": {"min": 0}}, None, place(household_count=0))


def test_a_region_entry_matches_on_the_parts_it_names():
    assert reaches({"regions": [{"district": "徐汇区"}]}, None, place())
    assert reaches({"regions": [{"city": "北京市"}, {"province": "上海市"}]}, None, place())
    assert not reaches({"regions": [{"city": "上海市", "district": "静安区"}]}, None, place())


def test_new_residents_are_those_who_joined_within_the_days():
    now = utcnow()
    rules = {"new_residents_days": 30}
    assert resident_is_new(rules, now - timedelta(days=29), now)
    assert not resident_is_new(rules, now - timedelta(days=31), now)
    assert resident_is_new({}, now - timedelta(days=3000), now)


def test_the_volume_month_is_the_previous_local_month():
    # 2026-03-01 01:00 in Shanghai is still February in UTC: the band reads February.
    assert volume_month(datetime(2026, 2, 28, 17, 0, tzinfo=UTC)) == "2026-02"
    assert volume_month(datetime(2026, 1, 15, tzinfo=UTC)) == "2025-12"


RULE_SETS = [
    {},
    {"tiers": ["A", "C"]},
    {"orders_per_1000": {"min": 3}},
    {"orders_per_1000": {"min": 1, "max": 8}},
    {"regions": [{"district": "静安区"}, {"city": "北京市"}]},
    {"radius": {"lat": 31.19, "lng": 121.44, "radius_km": 6}},
    {"tiers": ["B"], "radius": {"lat": 31.25, "lng": 121.44, "radius_km": 12}},
]


@pytest.mark.parametrize("rules", RULE_SETS)
@pytest.mark.parametrize("scope", [None, "上海市"])
def test_sql_and_python_agree_on_who_is_reached(app, rules, scope):
    ids = []
    for n, (tier, district, city, lat) in enumerate(
        [
            ("A", "徐汇区", "上海市", 31.19),
            ("B", "静安区", "上海市", 31.23),
            ("C", "徐汇区", "上海市", 31.30),
            ("B", "朝阳区", "北京市", 39.92),
            ("B", "徐汇区", "上海市", 31.18),
        ]
    ):
        community_id = f.community(
            app, tier=tier, district=district, city=city, province=city, lat=lat
        )
        orders_last_month(app, community_id, n * 2)
        ids.append(community_id)
    ids += [f.community(app, household_count=0), f.community(app, status="closed")]
    with app.app_context():
        facts = places(ids)
        expected = [cid for cid in ids if reaches(rules, scope, facts[cid])]
        assert reached_community_ids(rules, scope) == expected

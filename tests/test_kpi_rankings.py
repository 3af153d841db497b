"""The KPI list as managers rank communities by it: which month it opens on, how undefined
values and quiet communities sort, satisfaction, the warnings list and the SLA counters."""

import pytest

from models import CommunityMonthKpi
from models.base import utcnow
from service_hub.kpis.queries import SORTABLE, shift_month
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import month_of
from tests import factories as f

TABLE = "/api/v1/kpis/communities"
WARNINGS = "/api/v1/kpis/warnings"


@pytest.fixture
def this_month(app) -> str:
    with app.app_context():
        return month_of(utcnow())


@pytest.fixture
def last_month(this_month) -> str:
    return shift_month(this_month, -1)


@pytest.fixture
def manager(app) -> dict:
    return f.staff_auth(app, f.staff(app, "manager"), "manager")


def rollup(app, community_id: int, month: str, **counters) -> None:
    """One community's counters for a month, as the rollup would have them."""
    with app.app_context():
        db.session.add(CommunityMonthKpi(community_id=community_id, month=month, **counters))
        db.session.commit()


def rows(client, manager, path=TABLE, **query) -> list[dict]:
    response = client.get(path, headers=manager, query_string={"page_size": 100, **query})
    assert response.status_code == 200, response.json
    return response.json["items"]


def ids(items: list[dict]) -> list[int]:
    return [row["community_id"] for row in items]


def test_the_list_opens_on_the_last_complete_month(app, client, manager, last_month):
    f.community(app)
    assert [row["month"] for row in rows(client, manager)] == [last_month]


def test_a_month_still_running_is_neither_compared_nor_warned_about(
    app, client, manager, this_month, last_month
):
    community_id = f.community(app)
    rollup(app, community_id, last_month, orders_created=40, complaints=1)
    rollup(app, community_id, this_month, orders_created=3, complaints=2)
    [row] = rows(client, manager, month=this_month)
    assert row["partial_month"] is True
    assert (row["orders_mom"], row["complaints_mom"], row["health_warnings"]) == (None, None, [])


def test_a_complete_month_is_compared_and_warned_about(app, client, manager, last_month):
    community_id = f.community(app)
    rollup(app, community_id, shift_month(last_month, -1), orders_created=40)
    rollup(app, community_id, last_month, orders_created=3, orders_completed=3)
    [row] = rows(client, manager, month=last_month)
    assert (row["partial_month"], row["orders_mom"]) == (False, -0.925)
    assert row["health_warnings"] == ["falling_volume"]


def test_a_quiet_community_is_the_lowest_not_unknown(app, client, manager, last_month):
    busy = f.community(app, household_count=1000)
    quiet = f.community(app, household_count=1000)  # no rollup row at all that month
    unknown = f.community(app, household_count=0)  # no households on record: no rate
    rollup(app, busy, last_month, orders_created=5)
    rollup(app, unknown, last_month, orders_created=5)
    for order, expected in (("asc", [quiet, busy, unknown]), ("desc", [busy, quiet, unknown])):
        items = rows(client, manager, month=last_month, sort="orders_per_1000", order=order)
        assert ids(items) == expected, order


def test_a_community_without_ratings_has_no_satisfaction_score(app, client, manager, last_month):
    community_id = f.community(app)
    rollup(app, community_id, last_month, orders_created=4, orders_completed=4)
    [row] = rows(client, manager, month=last_month)
    assert row["satisfaction_index"] is None


def test_the_list_sorts_by_satisfaction(app, client, manager, last_month):
    good, poor, unrated = f.community(app), f.community(app), f.community(app)
    rollup(app, good, last_month, orders_completed=10, rating_sum=50, rating_count=10)
    rollup(app, poor, last_month, orders_completed=10, rating_sum=20, rating_count=10, complaints=2)
    rollup(app, unrated, last_month, orders_completed=10)
    items = rows(client, manager, month=last_month, sort="satisfaction_index", order="desc")
    assert ids(items) == [good, poor, unrated]
    assert items[0]["satisfaction_index"] > items[1]["satisfaction_index"]


def _mixed_month(app, month: str) -> None:
    """Communities whose figures differ in every KPI, with zeros, gaps and no households."""
    shapes = [
        {},
        {"orders_created": 3, "orders_completed": 2, "complaints": 1, "rating_sum": 7,
         "rating_count": 2, "accepted": 3, "accept_seconds": 900, "arrivals_with_window": 2,
         "arrivals_on_time": 1, "active_residents": 2, "sla_breaches": 1, "urges": 4,
         "repeat_visits": 1},
        {"orders_created": 12, "orders_completed": 11, "rating_sum": 52, "rating_count": 11,
         "accepted": 12, "accept_seconds": 3600, "arrivals_with_window": 10,
         "arrivals_on_time": 10, "active_residents": 9, "orders_cancelled": 1},
        {"orders_created": 6, "orders_completed": 1, "complaints": 3, "rating_sum": 2,
         "rating_count": 1, "repeat_visits": 3, "urges": 1, "sla_breaches": 5},
    ]  # fmt: skip
    for n, shape in enumerate(shapes * 2):
        community_id = f.community(app, household_count=(0, 800, 2500)[n % 3])
        if shape:
            rollup(app, community_id, month, **shape)
        if n % 2:
            rollup(app, community_id, shift_month(month, -1), orders_created=n, complaints=1)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_key_orders_the_rows_by_their_own_values(
    app, client, manager, last_month, order
):
    _mixed_month(app, last_month)
    for key in SORTABLE:
        items = rows(client, manager, month=last_month, sort=key, order=order)
        values = [row[key] for row in items]
        present = [v for v in values if v is not None]
        assert values[len(present) :] == [None] * (len(values) - len(present)), key
        assert present == sorted(present, reverse=order == "desc"), (key, values)


def test_the_warnings_list_covers_every_community_not_only_one_page(
    app, client, manager, last_month
):
    before = shift_month(last_month, -1)
    falling = []
    for n in range(25):
        community_id = f.community(app)
        orders = 2 if n % 12 == 11 else 10
        rollup(app, community_id, before, orders_created=10, orders_completed=10)
        rollup(app, community_id, last_month, orders_created=orders, orders_completed=orders)
        if n % 12 == 11:
            falling.append(community_id)
    page = client.get(WARNINGS, headers=manager, query_string={"month": last_month}).json
    assert page["total"] == 2
    assert [(r["community_id"], r["health_warnings"]) for r in page["items"]] == [
        (c, ["falling_volume"]) for c in falling
    ]


def test_the_warnings_list_agrees_with_the_rows_warnings(app, client, manager, last_month):
    before = shift_month(last_month, -1)
    cases = [
        ({"orders_created": 7, "orders_completed": 1}, {"orders_created": 10}),  # 70%: falling
        ({"orders_created": 8, "orders_completed": 1}, {"orders_created": 10}),
        ({}, {"orders_created": 5}),  # no orders at all now: falling
        ({"orders_created": 1}, {"orders_created": 4}),  # too few before to judge
        ({"complaints": 2, "orders_created": 2, "orders_completed": 2}, {"complaints": 1}),
        ({"complaints": 2, "orders_created": 2, "orders_completed": 2}, None),
        ({"rating_count": 5, "rating_sum": 19, "orders_created": 5, "orders_completed": 5}, None),
        ({"rating_count": 5, "rating_sum": 20, "orders_created": 5, "orders_completed": 5}, None),
        ({"orders_created": 3}, None),  # nobody completes anything
        ({"orders_created": 3, "orders_completed": 1}, None),
    ]
    for now, then in cases:
        community_id = f.community(app)
        if now:
            rollup(app, community_id, last_month, **now)
        if then:
            rollup(app, community_id, before, **then)
    every_row = rows(client, manager, month=last_month, sort="community_id", order="asc")
    expected = [(r["community_id"], r["health_warnings"]) for r in every_row]
    expected = [(community_id, warnings) for community_id, warnings in expected if warnings]
    listed = rows(client, manager, WARNINGS, month=last_month)
    assert sorted((r["community_id"], r["health_warnings"]) for r in listed) == expected
    assert len(expected) == 5


def test_the_warnings_list_is_empty_while_the_month_runs(app, client, manager, this_month):
    community_id = f.community(app)
    rollup(app, community_id, shift_month(this_month, -1), orders_created=30)
    rollup(app, community_id, this_month, orders_created=3)
    assert rows(client, manager, WARNINGS, month=this_month) == []


def test_a_regional_manager_hears_only_of_their_regions_warnings(app, client, last_month):
    shanghai = f.community(app)
    beijing = f.community(app, province="北京市", city="北京市", district="朝阳区")
    for community_id in (shanghai, beijing):
        rollup(app, community_id, last_month, orders_created=4)  # none completed
    manager = f.staff_auth(app, f.staff(app, "manager", region="北京市"), "manager")
    assert ids(rows(client, manager, WARNINGS, month=last_month)) == [beijing]


@pytest.mark.parametrize(
    "query", [{"month": "2026-13"}, {"page": 0}, {"page_size": 101}, {"tier": "Z"}]
)
def test_the_warnings_list_refuses_bad_arguments(client, manager, query):
    response = client.get(WARNINGS, headers=manager, query_string=query)
    assert response.status_code == 422
    assert set(query) <= set(response.json["error"]["fields"])


def test_sla_breaches_urges_and_repeat_visits_are_listed_with_first_time_fix(
    app, client, manager, last_month
):
    community_id = f.community(app)
    rollup(
        app, community_id, last_month, orders_completed=4, sla_breaches=2, urges=3, repeat_visits=1
    )
    [row] = rows(client, manager, month=last_month)
    figures = ("sla_breaches", "urges", "repeat_visits", "first_time_fix_rate")
    assert tuple(row[k] for k in figures) == (2, 3, 1, 0.75)


def test_first_time_fix_is_undefined_without_completed_orders(app, client, manager, last_month):
    rollup(app, f.community(app), last_month, orders_created=2, repeat_visits=1)
    [row] = rows(client, manager, month=last_month)
    assert row["first_time_fix_rate"] is None


def test_the_series_ends_on_the_last_complete_month(app, client, manager, last_month):
    community_id = f.community(app)
    series = client.get(f"{TABLE}/{community_id}?months=2", headers=manager).json["months"]
    assert [(m["month"], m["partial_month"]) for m in series] == [
        (shift_month(last_month, -1), False),
        (last_month, False),
    ]


def test_a_series_up_to_the_running_month_marks_it_partial(app, client, manager, this_month):
    community_id = f.community(app)
    path = f"{TABLE}/{community_id}?months=2&until={this_month}"
    series = client.get(path, headers=manager).json["months"]
    assert [m["partial_month"] for m in series] == [False, True]


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    "key", ["orders", "orders_per_1000", "orders_mom", "satisfaction_index", "urges"]
)
def test_pages_follow_on_in_one_order_with_ties_by_community_id(
    app, client, manager, last_month, key, order
):
    _mixed_month(app, last_month)
    whole = rows(client, manager, month=last_month, sort=key, order=order)
    paged = []
    for page in (1, 2, 3):
        paged += rows(
            client, manager, month=last_month, sort=key, order=order, page=page, page_size=3
        )
    assert ids(paged) == ids(whole)
    for earlier, later in zip(whole, whole[1:], strict=False):
        if earlier[key] == later[key]:
            assert earlier["community_id"] < later["community_id"], (key, earlier, later)


def test_a_new_household_count_reorders_the_per_1000_figures(app, client, manager, last_month):
    from models import Community

    small, large = f.community(app, household_count=1000), f.community(app, household_count=2000)
    for community_id in (small, large):
        rollup(app, community_id, last_month, orders_created=10)
    assert ids(rows(client, manager, month=last_month, sort="orders_per_1000")) == [small, large]
    with app.app_context():
        db.session.get(Community, large).household_count = 500
        db.session.commit()
    items = rows(client, manager, month=last_month, sort="orders_per_1000")
    assert [(r["community_id"], r["orders_per_1000"]) for r in items] == [
        (large, 20.0),
        (small, 10.0),
    ]


def test_a_community_added_after_its_month_was_read_is_listed(app, client, manager, last_month):
    first = f.community(app)
    rollup(app, first, last_month, orders_created=2)
    assert ids(rows(client, manager, month=last_month)) == [first]
    added = f.community(app)
    page = client.get(TABLE, headers=manager, query_string={"month": last_month}).json
    assert [(r["community_id"], r["orders"]) for r in page["items"]] == [(first, 2), (added, 0)]
    assert page["total"] == 2


def test_a_month_read_while_quiet_is_no_month_to_compare_with(app, client, manager, last_month):
    community_id = f.community(app)
    before = shift_month(last_month, -1)
    rows(client, manager, month=before)  # the quiet month gets its row of zeros
    rollup(app, community_id, last_month, complaints=3, orders_created=3, orders_completed=3)
    assert rows(client, manager, month=last_month)[0]["health_warnings"] == []
    assert rows(client, manager, WARNINGS, month=last_month) == []


def test_an_earlier_months_rollup_moves_the_later_months_change(app, client, manager, last_month):
    from service_hub.kpis.rollup import _bump_month

    community_id = f.community(app)
    with app.app_context():
        _bump_month(community_id, last_month, {"orders_created": 10})
        _bump_month(community_id, shift_month(last_month, -1), {"orders_created": 4})
        _bump_month(community_id, shift_month(last_month, -1), {"orders_created": 1})
        db.session.commit()
    row = rows(client, manager, month=last_month, sort="orders_mom")[0]
    assert (row["orders"], row["orders_mom"]) == (10, 1.0)

"""Ranking is a pure function: hard filters first, then an explainable weighted score."""

from dispatch.ranking import Candidate, OrderNeeds, rank, rejection_reason
from service_hub.plumbing.config import DEFAULT_DISPATCH_WEIGHTS as WEIGHTS

HOME = (31.19, 121.44)


def candidate(engineer_id=1, **overrides) -> Candidate:
    fields = {
        "serves_community": True,
        "skills": {"purifier": 3},
        "on_duty": True,
        "open_orders": 0,
        "max_open_orders": 5,
        "standing": 0.5,
        "base": HOME,
    }
    return Candidate(engineer_id=engineer_id, **{**fields, **overrides})


NEEDS = OrderNeeds(skill="purifier", min_level=2, community_location=HOME)


def test_an_engineer_who_does_not_serve_the_community_is_filtered_out():
    assert rejection_reason(candidate(serves_community=False), NEEDS) == "does_not_serve_community"


def test_an_engineer_without_the_skill_is_filtered_out():
    assert rejection_reason(candidate(skills={"aircon": 5}), NEEDS) == "lacks_skill"


def test_an_engineer_below_the_required_level_is_filtered_out():
    assert rejection_reason(candidate(skills={"purifier": 1}), NEEDS) == "skill_level_too_low"


def test_an_engineer_off_duty_is_filtered_out():
    assert rejection_reason(candidate(on_duty=False), NEEDS) == "off_duty"


def test_an_engineer_at_max_load_is_filtered_out():
    assert rejection_reason(candidate(open_orders=5), NEEDS) == "at_max_load"


def test_an_engineer_offered_this_order_before_is_filtered_out():
    needs = OrderNeeds("purifier", 1, HOME, excluded_engineer_ids=frozenset({1}))
    assert rejection_reason(candidate(1), needs) == "already_offered"


def test_a_higher_standing_ranks_first():
    eligible, _ = rank([candidate(1, standing=0.3), candidate(2, standing=0.9)], NEEDS, WEIGHTS)
    assert [s.engineer_id for s in eligible] == [2, 1]


def test_a_nearer_engineer_ranks_first_when_all_else_is_equal():
    far = candidate(1, base=(31.35, 121.60))
    near = candidate(2, base=(31.20, 121.45))
    eligible, _ = rank([far, near], NEEDS, WEIGHTS)
    assert [s.engineer_id for s in eligible] == [2, 1]


def test_a_less_loaded_engineer_ranks_first_when_all_else_is_equal():
    eligible, _ = rank([candidate(1, open_orders=3), candidate(2, open_orders=0)], NEEDS, WEIGHTS)
    assert [s.engineer_id for s in eligible] == [2, 1]


def test_an_eligible_preferred_engineer_comes_first_despite_a_lower_score():
    needs = OrderNeeds("purifier", 1, HOME, preferred_engineer_id=1)
    eligible, _ = rank([candidate(1, standing=0.1), candidate(2, standing=0.9)], needs, WEIGHTS)
    assert eligible[0].engineer_id == 1


def test_the_breakdown_explains_the_total():
    [scored], _ = rank([candidate(1, standing=0.8)], NEEDS, WEIGHTS)
    assert scored.breakdown["total"] == round(sum(scored.breakdown["weighted"].values()), 6)
    assert scored.breakdown["components"]["standing"] == 0.8
    assert scored.breakdown["distance_km"] == 0.0


def test_rejected_candidates_come_back_with_their_reasons():
    eligible, rejected = rank([candidate(1, on_duty=False), candidate(2)], NEEDS, WEIGHTS)
    assert [s.engineer_id for s in eligible] == [2]
    assert rejected == {1: "off_duty"}


WEEKDAY_HOURS = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}


def test_an_engineer_outside_working_hours_is_filtered_out():
    saturday = OrderNeeds("purifier", 1, HOME, local_window=(6, "10:00", "12:00"))
    assert (
        rejection_reason(candidate(working_hours=WEEKDAY_HOURS), saturday)
        == "outside_working_hours"
    )


def test_a_window_inside_working_hours_passes():
    tuesday = OrderNeeds("purifier", 1, HOME, local_window=(2, "10:00", "12:00"))
    assert rejection_reason(candidate(working_hours=WEEKDAY_HOURS), tuesday) is None


def test_a_window_running_past_closing_time_is_filtered_out():
    late = OrderNeeds("purifier", 1, HOME, local_window=(2, "17:00", "19:00"))
    assert rejection_reason(candidate(working_hours=WEEKDAY_HOURS), late) == "outside_working_hours"


def test_the_residents_butler_comes_first_despite_a_lower_score():
    eligible, _ = rank(
        [candidate(1, standing=0.1, is_butler=True), candidate(2, standing=0.9)],
        NEEDS,
        WEIGHTS,
    )
    assert eligible[0].engineer_id == 1


def test_a_preferred_engineer_comes_before_the_butler():
    needs = OrderNeeds("purifier", 1, HOME, preferred_engineer_id=2)
    eligible, _ = rank([candidate(1, is_butler=True), candidate(2)], needs, WEIGHTS)
    assert [s.engineer_id for s in eligible] == [2, 1]


def test_a_butler_who_is_off_duty_is_not_offered():
    eligible, rejected = rank(
        [candidate(1, is_butler=True, on_duty=False), candidate(2)], NEEDS, WEIGHTS
    )
    assert [s.engineer_id for s in eligible] == [2]
    assert rejected == {1: "off_duty"}

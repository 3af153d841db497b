"""The standing formula, tested directly."""

from datetime import date, timedelta

from dispatch.standing_formula import StandingFacts, standing

TODAY = date(2026, 11, 22)


def facts(ratings=(), complaints=0, likes=0, completed_days_ago=()):
    return StandingFacts(
        rating_count=len(ratings),
        rating_sum=sum(ratings),
        complaints=complaints,
        likes=likes,
        completed_on=tuple(TODAY - timedelta(days=d) for d in completed_days_ago),
    )


def standing_of(f):
    return standing(f, TODAY, {})[0]


def test_one_lucky_five_star_review_does_not_beat_two_hundred_good_ones():
    lucky = facts(ratings=[5], completed_days_ago=[1])
    steady = facts(ratings=[5] * 180 + [4] * 20, completed_days_ago=[10] * 200)
    assert standing_of(steady) > standing_of(lucky)


def lucky_and_steady():
    """The same 200 completions each; one engineer has a single 5-star review, the other 200
    reviews averaging 4.9. Only the ratings differ, so only the smoothing can decide."""
    completions = [10] * 200
    lucky = facts(ratings=[5], completed_days_ago=completions)
    steady = facts(ratings=[5] * 180 + [4] * 20, completed_days_ago=completions)
    return lucky, steady


def test_bayesian_smoothing_puts_two_hundred_good_reviews_above_one_lucky_one():
    lucky, steady = lucky_and_steady()
    assert standing_of(steady) > standing_of(lucky)


def test_without_smoothing_the_lucky_review_would_win():
    """Guards the test above: with the prior weighing nothing it fails."""
    lucky, steady = lucky_and_steady()
    raw = {"prior_weight": 0}
    assert standing(lucky, TODAY, raw)[0] > standing(steady, TODAY, raw)[0]


def test_with_equal_volume_a_better_rating_ranks_higher():
    assert standing_of(facts(ratings=[5] * 20, completed_days_ago=[5] * 20)) > standing_of(
        facts(ratings=[3] * 20, completed_days_ago=[5] * 20)
    )


def test_complaints_lower_the_standing():
    base = dict(ratings=[5] * 10, completed_days_ago=[3] * 10)
    assert standing_of(facts(**base, complaints=3)) < standing_of(facts(**base))


def test_likes_raise_the_standing():
    base = dict(ratings=[4] * 10, completed_days_ago=[3] * 10)
    assert standing_of(facts(**base, likes=8)) > standing_of(facts(**base))


def test_old_completions_weigh_less_than_recent_ones():
    recent = standing(facts(completed_days_ago=[1] * 10), TODAY, {})[1]
    old = standing(facts(completed_days_ago=[360] * 10), TODAY, {})[1]
    assert old["decayed_completed"] < recent["decayed_completed"] / 3


def test_a_completion_counts_half_after_the_half_life():
    _, breakdown = standing(facts(completed_days_ago=[180]), TODAY, {})
    assert breakdown["decayed_completed"] == 0.5


def test_the_score_stays_between_zero_and_one():
    worst = facts(ratings=[1] * 50, complaints=50, completed_days_ago=[1] * 50)
    assert standing_of(worst) == 0.0
    assert 0 < standing_of(facts(ratings=[5] * 500, likes=500, completed_days_ago=[0] * 500)) <= 1


def test_weights_come_from_configuration():
    f = facts(ratings=[5] * 10, completed_days_ago=[1] * 10)
    assert standing(f, TODAY, {"volume": 0.0})[0] < standing(f, TODAY, {})[0]

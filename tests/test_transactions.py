"""Transactions that lose a race (deadlock, serialisation failure) are retried a bounded
number of times, then answered 409, never 500 and never by recursion."""

import pytest
from sqlalchemy.exc import OperationalError

from service_hub.plumbing.errors import Conflict, handle_unexpected
from service_hub.plumbing.sql import TRANSIENT_ATTEMPTS, retry_transient, winner_of_unique_race


class PgError(Exception):
    """What psycopg raises: the SQLSTATE rides on the exception."""

    def __init__(self, sqlstate: str):
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def lost_race(sqlstate: str = "40P01") -> OperationalError:
    return OperationalError("UPDATE activity …", {}, PgError(sqlstate))


def test_a_rule_that_keeps_deadlocking_is_a_409_after_a_bounded_number_of_attempts(app):
    calls = []

    @retry_transient
    def rule():
        calls.append(1)
        raise lost_race()

    with app.app_context(), pytest.raises(Conflict) as caught:
        rule()
    assert (caught.value.code, len(calls)) == ("concurrent_update", TRANSIENT_ATTEMPTS)


def test_a_rule_that_deadlocks_once_succeeds_on_the_next_attempt(app):
    outcomes = [lost_race("40001"), "done"]

    @retry_transient
    def rule():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with app.app_context():
        assert rule() == "done"


def test_an_operational_error_that_is_not_a_lost_race_is_not_retried(app):
    calls = []

    @retry_transient
    def rule():
        calls.append(1)
        raise OperationalError("SELECT 1", {}, PgError("42P01"))

    with app.app_context(), pytest.raises(OperationalError):
        rule()
    assert len(calls) == 1


def test_a_deadlock_no_rule_retried_is_answered_409(app):
    with app.test_request_context():
        response, status = handle_unexpected(lost_race())
    assert (status, response.json["error"]["code"]) == (409, "concurrent_update")


def test_a_lost_unique_race_answers_with_the_row_that_won(app):
    with app.app_context():
        assert winner_of_unique_race(lambda: "the winner") == "the winner"


def test_a_lost_unique_race_without_a_winner_is_a_409(app):
    with app.app_context(), pytest.raises(Conflict) as caught:
        winner_of_unique_race(lambda: None, code="bind_conflict")
    assert caught.value.code == "bind_conflict"

"""The embedded default does not depend on how SQLite was built: the maths functions the
queries use (nearby's haversine) are registered from Python where the build lacks them."""

import math
import sqlite3

from service_hub.plumbing.db_setup import _sqlite_maths


class _BuildWithoutMaths:
    """A connection to a SQLite built without SQLITE_ENABLE_MATH_FUNCTIONS."""

    def __init__(self):
        self.registered = {}

    def execute(self, sql):
        raise sqlite3.OperationalError(f"no such function: {sql.split('(')[0][7:]}")

    def create_function(self, name, arity, func, deterministic=False):
        self.registered[name] = (arity, func)


def test_a_build_without_maths_functions_gets_them_from_python():
    connection = _BuildWithoutMaths()
    _sqlite_maths(connection)
    assert sorted(connection.registered) == ["cos", "power", "radians", "sin"]


def test_the_registered_functions_answer_as_sqlites_own():
    connection = sqlite3.connect(":memory:")
    stand_in = _BuildWithoutMaths()
    _sqlite_maths(stand_in)
    for name, (arity, func) in stand_in.registered.items():
        connection.create_function(f"py_{name}", arity, func, deterministic=True)
    native, ours = connection.execute(
        "SELECT power(sin(radians(30)), 2) * cos(radians(60)),"
        " py_power(py_sin(py_radians(30)), 2) * py_cos(py_radians(60))"
    ).fetchone()
    assert math.isclose(native, ours) and math.isclose(ours, 0.125)

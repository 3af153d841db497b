"""Per-backend database settings applied when connections open, and sessions that end
cleanly even when the database went away under them."""

from __future__ import annotations

import logging
import math
import sqlite3

import sqlalchemy as sa
from flask import Flask

from service_hub.plumbing.extensions import db

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers proceed while one writer works; foreign keys are off by default in
    # SQLite and we want the same integrity as on PostgreSQL. We issue BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    _sqlite_maths(dbapi_connection)


# SQL functions the queries use (nearby's haversine) that SQLite has only when built with
# SQLITE_ENABLE_MATH_FUNCTIONS: registered from Python where the build lacks them.
_MATHS = {
    "sin": (1, math.sin),
    "cos": (1, math.cos),
    "radians": (1, math.radians),
    "power": (2, math.pow),
}


def _sqlite_maths(dbapi_connection) -> None:
    for name, (arity, func) in _MATHS.items():
        try:
            dbapi_connection.execute(f"SELECT {name}({', '.join(['1'] * arity)})")
        except sqlite3.OperationalError:  # no such function: this build lacks it
            dbapi_connection.create_function(name, arity, func, deterministic=True)


def _sqlite_begin_immediate(connection) -> None:
    # SQLite has no row locks: SELECT … FOR UPDATE is a no-op there. Taking the write lock at
    # BEGIN makes every transaction serializable, so the read-check-write of an order action
    # cannot interleave with the in-process worker. The embedded default trades throughput
    # for that; production runs on PostgreSQL's row locks.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def end_failed_transaction() -> None:
    """Roll back after an error. When the database went away the rollback fails as well:
    then drop the session's connections unused (the pool opens fresh ones when it is back)."""
    try:
        db.session.rollback()
    except sa.exc.DBAPIError as error:
        log.warning("rollback on a lost database connection: %s", error.orig)
        db.session().invalidate()


def _close_session(_exc) -> None:
    # Flask-SQLAlchemy closes the session after every request and job, which rolls back its
    # transaction; on a connection PostgreSQL has just closed that raises past every error
    # handler, and gunicorn answers with its own HTML page. Close it here first, failure-proof.
    try:
        db.session.remove()
    except sa.exc.DBAPIError as error:
        log.warning("closing a session on a lost database connection: %s", error.orig)
        db.session().invalidate()
        db.session.remove()


def init_app(app: Flask) -> None:
    """Install connection hooks for the configured backend, and the session teardown."""
    # Registered after Flask-SQLAlchemy's teardown, so it runs before it.
    app.teardown_appcontext(_close_session)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            sa.event.listen(engine, "begin", _sqlite_begin_immediate)

"""Per-backend database settings applied when connections open."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from service_hub.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers proceed while one writer works; foreign keys are off by default in
    # SQLite and we want the same integrity as on PostgreSQL. We issue BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    # SQLite has no row locks: SELECT … FOR UPDATE is a no-op there. Taking the write lock at
    # BEGIN makes every transaction serializable, so the read-check-write of an order action
    # cannot interleave with the in-process worker. The embedded default trades throughput
    # for that; production runs on PostgreSQL's row locks.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Install connection hooks for the configured backend."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            sa.event.listen(engine, "begin", _sqlite_begin_immediate)

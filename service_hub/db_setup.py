"""Per-backend database settings applied when connections open."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from service_hub.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the in-process worker thread read while a request writes; foreign keys are
    # off by default in SQLite and we want the same integrity as on PostgreSQL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Install connection hooks for the configured backend."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)

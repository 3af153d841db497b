"""Small SQL helpers that need the dialect: insert-or-ignore on a unique key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from service_hub.extensions import db


def dialect_insert():
    """The bound backend's insert() (PostgreSQL or SQLite), which has ON CONFLICT."""
    dialect = db.session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def upsert_increment(model, key: dict, increments: dict[str, int], unique_columns: list[str]):
    """INSERT the key row with `increments` as its counters, or add them to the existing row:
    one atomic statement, so concurrent increments never lose each other."""
    table = model.__table__
    stmt = dialect_insert()(model).values({**key, **increments})
    return db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=unique_columns,
            set_={name: table.c[name] + n for name, n in increments.items()},
        )
    )


def insert_ignoring_duplicates(model, rows: list[dict], unique_columns: list[str]) -> int:
    """INSERT … ON CONFLICT (unique_columns) DO NOTHING; returns how many rows were new."""
    if not rows:
        return 0
    stmt = (
        dialect_insert()(model).values(rows).on_conflict_do_nothing(index_elements=unique_columns)
    )
    result = db.session.execute(stmt.returning(sa.literal_column("1")))
    return len(result.all())

"""Small SQL helpers that need the dialect: insert-or-ignore on a unique key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from service_hub.extensions import db


def insert_ignoring_duplicates(model, rows: list[dict], unique_columns: list[str]) -> int:
    """INSERT … ON CONFLICT (unique_columns) DO NOTHING; returns how many rows were new."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(rows).on_conflict_do_nothing(index_elements=unique_columns)
    result = db.session.execute(stmt.returning(sa.literal_column("1")))
    return len(result.all())

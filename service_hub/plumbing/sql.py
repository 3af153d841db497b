"""Small SQL helpers: insert-or-ignore on a unique key (needs the dialect), a portable row
lock, and a bounded retry of transactions that lost a race (deadlock, serialisation)."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from service_hub.plumbing.errors import Conflict, is_transient_conflict
from service_hub.plumbing.extensions import db


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
    # Rows as executemany parameters, not one .values(rows): one small statement compiled
    # once per call whatever the number of rows, which matters for chunks of hundreds.
    # (Not cached across calls: SQLAlchemy never caches INSERT … ON CONFLICT.)
    stmt = dialect_insert()(model.__table__).on_conflict_do_nothing(index_elements=unique_columns)
    result = db.session.execute(stmt.returning(sa.literal_column("1")), rows)
    return len(result.all())


def lock_row(model, row_id: int) -> bool:
    """Take the write lock on one row for the rest of the transaction; False if it is gone.

    A no-op UPDATE rather than SELECT … FOR UPDATE, because it locks on both backends: a row
    lock on PostgreSQL, the database's write lock on SQLite (which has no FOR UPDATE). Every
    rule that keeps a counter on a parent row takes this lock first, so concurrent changes of
    the same parent run one after another, always in the same order (parent, then children),
    and cannot deadlock on each other.
    """
    primary_key = model.__table__.c.id
    return bool(
        db.session.execute(
            sa.update(model.__table__).where(primary_key == row_id).values(id=primary_key)
        ).rowcount
    )


def set_count(column, row_id: int, count_query: sa.Select) -> None:
    """Set a counter column of one row (e.g. `Activity.signed_up`) to what `count_query`
    counts, in one UPDATE: counters are set from the rows they count, never moved by ±1.
    The caller holds the row's lock (`lock_row`), so the count cannot change meanwhile."""
    model = column.class_
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id)
        .values({column: count_query.scalar_subquery()})
        .execution_options(synchronize_session=False)
    )


TRANSIENT_ATTEMPTS = 3


def retry_transient(fn):
    """Decorator for a rule that runs and commits one transaction: on a deadlock or
    serialisation failure, roll back and run it again, at most TRANSIENT_ATTEMPTS times in
    all; then the caller gets a 409 (never a 500). No recursion, no unbounded loop."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for _ in range(TRANSIENT_ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except sa.exc.OperationalError as error:
                if not is_transient_conflict(error):
                    raise
                db.session.rollback()
        raise Conflict(
            "Too many simultaneous changes of the same record; try again.",
            code="concurrent_update",
            message_zh="操作过于频繁，请稍后重试",
        )

    return wrapper


def winner_of_unique_race(find_winner, *, code: str = "concurrent_update"):
    """After an IntegrityError on a unique key that a parallel request of the same caller won:
    roll back and return the row that won (found by `find_winner()`), or a 409 when there is
    none. Settled once, never retried, never by recursion."""
    db.session.rollback()
    winner = find_winner()
    if winner is None:
        raise Conflict(
            "The same change was being made at the same moment; try again.",
            code=code,
            message_zh="操作过于频繁，请重试",
        )
    return winner

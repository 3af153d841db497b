"""Fixtures: the app on each backend (embedded SQLite + in-process queue, and PostgreSQL +
Redis with a real RQ worker where reachable), a client, a job runner and the fake WeChat."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from redis import Redis

from demo.fake_wechat import FakeWeChatServer
from service_hub import create_app
from service_hub.plumbing.extensions import db

# Under pytest-xdist each worker (gw0, gw1, …) has a database and a Redis database of its own:
# <name>_gw0, <name>_gw1 and Redis databases n, n-1, … (made when missing).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _per_worker(database_url: str, redis_url: str) -> tuple[str, str]:
    if not WORKER:
        return database_url, redis_url
    index = int(WORKER.removeprefix("gw"))
    redis_base, redis_db = redis_url.rsplit("/", 1)
    return f"{database_url}_{WORKER}", f"{redis_base}/{int(redis_db) - index}"


PG_URL, REDIS_URL = _per_worker(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
)
BACKENDS = ("embedded", "postgres-redis")


def _ensure_worker_database() -> None:
    """An xdist worker's own database, created from the server's maintenance database."""
    base, name = PG_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)
    engine = sa.create_engine(
        f"{base}/postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    with engine.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _unreachable(url_kind: str) -> str | None:
    """Why a server backend cannot be used here, or None when it can."""
    try:
        if url_kind == "postgres":
            if WORKER:
                _ensure_worker_database()
            engine = sa.create_engine(
                PG_URL.replace("postgresql://", "postgresql+psycopg://"),
                connect_args={"connect_timeout": 3},
            )
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            engine.dispose()
        else:
            Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:  # the reason is printed with the skip
        return f"{url_kind} unreachable ({type(exc).__name__}: {exc})"
    return None


def pytest_report_header(config):
    reasons = [r for r in (_unreachable("postgres"), _unreachable("redis")) if r]
    if reasons:
        return f"backends: embedded only ({'; '.join(reasons)})"
    return (
        f"backends: embedded (SQLite + in-process queue) and "
        f"PostgreSQL {PG_URL} + Redis {REDIS_URL}"
    )


@pytest.fixture(scope="session")
def fake_wechat():
    """The fake WeChat server on loopback, shared by the session."""
    with FakeWeChatServer() as server:
        yield server


def _reset_postgres_schema() -> None:
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, fake_wechat, tmp_path_factory):
    """The app on one backend, its schema built by the migrations."""
    from flask_migrate import upgrade

    settings = {
        "SERVICE_HUB_ENV": "testing",
        "TESTING": True,
        "INPROCESS_TIMERS": False,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "WECHAT_API_BASE": fake_wechat.base_url,
        "WECHAT_APPID": fake_wechat.state.appid,
        "WECHAT_SECRET": fake_wechat.state.secret,
    }
    if request.param == "postgres-redis":
        reasons = [r for r in (_unreachable("postgres"), _unreachable("redis")) if r]
        if reasons:
            if os.environ.get("CI"):
                pytest.fail("CI must test on PostgreSQL and Redis: " + "; ".join(reasons))
            pytest.skip("; ".join(reasons))
        _reset_postgres_schema()
        settings.update(
            SQLALCHEMY_DATABASE_URI=PG_URL.replace("postgresql://", "postgresql+psycopg://"),
            REDIS_URL=REDIS_URL,
        )
    else:
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        settings.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", REDIS_URL=None)
    application = create_app(settings)
    application.config["BACKEND"] = request.param
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request, fake_wechat):
    """Every test starts with empty tables, an empty Redis test database and a fresh fake."""
    fake_wechat.state.reset()
    yield
    if "app" not in request.fixturenames:
        return
    reset_backend(request.getfixturevalue("app"))


def reset_backend(application) -> None:
    """Empty what a test leaves behind: rate-limit counters, the cached WeChat token and
    community homes, queued jobs (or the Redis test database) and every table. Also used by
    modules that build their data once for many tests (tests/authz/)."""
    from service_hub.plumbing.ratelimit import EXTENSION_KEY

    application.extensions[EXTENSION_KEY].reset()
    token_cache = application.extensions.get("wechat_access_token")
    if token_cache is not None:
        token_cache.invalidate()
    home_cache = application.extensions.get("community_home_cache")
    if home_cache is not None:
        home_cache.clear()
    queue = application.extensions["job_queue"]
    if hasattr(queue, "drain"):
        queue.drain()
        queue.run_scheduled_now() and queue.drain()
    else:
        queue.redis.flushdb()
    with application.app_context():
        tables = db.metadata.sorted_tables
        if db.engine.dialect.name == "postgresql":
            _empty_postgres(tables)
        else:
            for table in reversed(tables):
                db.session.execute(table.delete())
        db.session.commit()


def _empty_postgres(tables) -> None:
    """Every table emptied and every used id sequence restarted, as TRUNCATE … RESTART
    IDENTITY would, in two round trips. TRUNCATE makes new files for all ~45 tables: 0.1 s a
    test on a quiet machine and over a second on a busy one, where DELETE of the few rows a
    test leaves costs milliseconds."""
    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(tables))
    db.session.execute(sa.text(deletes))
    used = db.session.scalars(
        sa.text(
            "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    ).all()
    if used:
        restarts = ", ".join(f"setval('{name}', 1, false)" for name in used)
        db.session.execute(sa.text(f"SELECT {restarts}"))


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def run_jobs(app):
    """Run every queued job to completion: a real RQ worker (burst) or the in-process queue."""
    from service_hub.worker import build_worker

    def run(include_scheduled: bool = False) -> None:
        """include_scheduled also runs delayed jobs: those due (RQ), or all (in-process)."""
        queue = app.extensions["job_queue"]
        if hasattr(queue, "drain"):
            queue.drain()
            if include_scheduled and queue.run_scheduled_now():
                queue.drain()
        else:
            worker = build_worker(app, (), simple=True)
            worker.work(burst=True, logging_level="WARNING", with_scheduler=include_scheduled)

    return run

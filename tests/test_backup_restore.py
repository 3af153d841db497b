"""Backups restore (docs/operations.md, "Backups and restore"), on PostgreSQL.

A database built by the migrations and seeded with a small demo city is backed up by
deploy/backup.sh (pg_dump in custom format, then the uploaded images), restored with
pg_restore into a fresh database as the docs say, and compared with its source: every table's
rows, the sequences, the migration, the images. Both databases are dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL, BASE_NAME = PG_URL.rsplit("/", 1)
SOURCE, RESTORED = f"{BASE_NAME}_backup_source", f"{BASE_NAME}_backup_restored"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BACKUP_KEEP_DAYS = 14


def _unavailable(reason: str) -> None:
    print(reason)
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the backup and restore test: {reason}")
    pytest.skip(reason)


def _engine(database: str, **options) -> sa.Engine:
    url = f"{SERVER_URL}/{database}".replace("postgresql://", "postgresql+psycopg://")
    return sa.create_engine(url, connect_args={"connect_timeout": 3}, **options)


def _admin(*statements: str) -> None:
    """Statements run in the server's maintenance database (CREATE/DROP DATABASE)."""
    engine = _engine("postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def _drop_both() -> None:
    _admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in (SOURCE, RESTORED)))


def _seed_source(upload_dir: Path) -> None:
    """The app's migrations, then a three-community demo city (orders, reviews, photos …)."""
    from flask_migrate import upgrade

    from demo.extras import seed_extras
    from demo.seed import seed_demo
    from service_hub import create_app
    from service_hub.plumbing.extensions import db

    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "INPROCESS_TIMERS": False,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": f"{SERVER_URL}/{SOURCE}".replace(
                "postgresql://", "postgresql+psycopg://"
            ),
            "REDIS_URL": None,
            "UPLOAD_DIR": str(upload_dir),
            "WECHAT_API_BASE": "http://127.0.0.1:9",  # nothing leaves the machine
        }
    )
    with app.app_context():
        upgrade()
        seed_demo(communities=3, seed=7, progress=lambda _message: None, now=NOW)
        seed_extras(7, NOW)
        db.engine.dispose()


@pytest.fixture(scope="module")
def backup(tmp_path_factory):
    """The seeded source, the backup directory deploy/backup.sh made, and the restored copy."""
    try:
        _admin("SELECT 1")
    except Exception as exc:  # the reason is printed with the skip
        _unavailable(f"PostgreSQL unreachable ({type(exc).__name__}: {exc})")
    for tool in ("pg_dump", "pg_restore"):
        if not os.access(f"/usr/bin/{tool}", os.X_OK):
            _unavailable(f"/usr/bin/{tool} not found: cannot back up and restore")
    tmp = tmp_path_factory.mktemp("backup")
    uploads, backups = tmp / "uploads", tmp / "backups"
    _drop_both()
    _admin(f'CREATE DATABASE "{SOURCE}"')
    try:
        _seed_source(uploads)
        backups.mkdir()
        for name, days in (("old", BACKUP_KEEP_DAYS + 1), ("recent", BACKUP_KEEP_DAYS - 1)):
            earlier = backups / f"service-hub-{name}.dump"  # dumps of earlier nights
            earlier.write_bytes(b"")
            then = time.time() - days * 86400
            os.utime(earlier, (then, then))
        environment = {
            "PATH": f"/usr/bin:/bin:{os.environ.get('PATH', '')}",
            "DATABASE_URL": f"{SERVER_URL}/{SOURCE}",
            "UPLOAD_DIR": str(uploads),
            "BACKUP_DIR": str(backups),
            "BACKUP_KEEP_DAYS": str(BACKUP_KEEP_DAYS),
        }
        made = subprocess.run(
            [str(ROOT / "deploy" / "backup.sh")],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        print(made.stdout + made.stderr)
        assert made.returncode == 0
        (dump,) = set(backups.glob("service-hub-*.dump")) - {backups / "service-hub-recent.dump"}
        # The restore of docs/operations.md: a fresh database, pg_restore into it.
        _admin(f'CREATE DATABASE "{RESTORED}"')
        restored = subprocess.run(
            [
                "/usr/bin/pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={SERVER_URL}/{RESTORED}",
                str(dump),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        print(restored.stdout + restored.stderr)
        assert restored.returncode == 0
        yield {"uploads": uploads, "backups": backups}
    finally:
        _drop_both()


def _read(database: str, query: str) -> dict:
    engine = _engine(database)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(sa.text(query)).all())
    finally:
        engine.dispose()


def _row_counts(database: str) -> dict[str, int]:
    engine = _engine(database)
    try:
        with engine.connect() as connection:
            tables = connection.scalars(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).all()
            return {
                table: connection.scalar(sa.text(f'SELECT count(*) FROM "{table}"'))
                for table in tables
            }
    finally:
        engine.dispose()


def test_restored_database_has_every_table_with_its_row_count(backup):
    source = _row_counts(SOURCE)
    assert sum(1 for rows in source.values() if rows) > 20  # the seed filled the city
    assert _row_counts(RESTORED) == source


def test_restored_database_is_at_the_sources_migration(backup):
    query = "SELECT version_num, 1 FROM alembic_version"
    source = _read(SOURCE, query)
    assert len(source) == 1
    assert _read(RESTORED, query) == source


def test_restored_sequences_continue_where_the_sources_stopped(backup):
    # Else the first insert after a restore would collide with a restored id.
    query = (
        "SELECT sequencename, last_value FROM pg_sequences "
        "WHERE schemaname = 'public' AND last_value IS NOT NULL"
    )
    source = _read(SOURCE, query)
    assert source
    assert _read(RESTORED, query) == source


def test_backup_holds_every_uploaded_image(backup):
    def files(directory: Path) -> dict[str, bytes]:
        return {
            str(path.relative_to(directory)): path.read_bytes()
            for path in directory.rglob("*")
            if path.is_file()
        }

    images = files(backup["uploads"])
    assert images  # the seed's completion photos
    assert files(backup["backups"] / "uploads") == images


def test_backup_deletes_only_dumps_older_than_the_retention(backup):
    kept = sorted(path.name for path in backup["backups"].glob("service-hub-*.dump"))
    assert len(kept) == 2
    assert "service-hub-recent.dump" in kept
    assert "service-hub-old.dump" not in kept


def test_db_upgrade_after_restore_keeps_the_restored_migration(backup):
    before = _read(RESTORED, "SELECT version_num, 1 FROM alembic_version")
    flask = shutil.which("flask", path=str(Path(sys.executable).parent))
    environment = {
        **os.environ,
        "DATABASE_URL": f"{SERVER_URL}/{RESTORED}",
        # testing: no in-process periodic jobs touching the restored rows (production
        # has REDIS_URL set, and then there are none either)
        "SERVICE_HUB_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    environment.pop("REDIS_URL", None)
    upgraded = subprocess.run(
        [flask, "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(upgraded.stdout + upgraded.stderr)
    assert upgraded.returncode == 0
    assert _read(RESTORED, "SELECT version_num, 1 FROM alembic_version") == before

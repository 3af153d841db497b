"""Benchmarks, run by hand (never in the test suite). Shared set-up below."""

from __future__ import annotations


def fresh_app(database_url: str, secret: str):
    """The app on the embedded queue over a fresh, migrated `public` schema of the bench's
    PostgreSQL database (`postgresql://…`; its schema is dropped and rebuilt)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from service_hub import create_app

    url = database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "INPROCESS_TIMERS": False,
            "SECRET_KEY": secret,
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        upgrade()
    return app

"""The models and the migrations describe the same schema, on each backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service_hub.plumbing.extensions import db


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_outbox_rows_in_flight_keep_their_handler_across_the_kind_renaming(tmp_path):
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from service_hub import create_app

    app = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "SECRET_KEY": "migration-test-secret-key-long-enough-0123",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}",
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO outbox_message (kind, event_key, payload, created_at) "
                    "VALUES ('order.dispatch', 'order:1:round:0', '{}', '2026-12-02 00:00:00')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            kind = connection.execute(sa.text("SELECT kind FROM outbox_message")).scalar_one()
        db.engine.dispose()
    assert kind == "order_dispatch"

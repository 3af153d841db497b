"""The models and the migrations describe the same schema, on each backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service_hub.extensions import db


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []

"""Completion photos on the order; at most one default address per resident

service_order.completion_photos holds the engineer's photos of the finished work (they used to
ride in the complete action's free-text reason). resident_address gets a partial unique index
on resident_id WHERE is_default, so two defaults cannot both be stored.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_order") as batch_op:
        batch_op.add_column(
            sa.Column(
                "completion_photos", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
    op.create_index(
        "uq_resident_address_default",
        "resident_address",
        ["resident_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )


def downgrade():
    op.drop_index("uq_resident_address_default", table_name="resident_address")
    with op.batch_alter_table("service_order") as batch_op:
        batch_op.drop_column("completion_photos")

"""booking: one *active* booking per (visit, resident), so a cancelled booking can be rebooked

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_constraint("uq_booking_visit_id_resident_id", type_="unique")
        batch_op.create_index("ix_booking_visit_id", ["visit_id"], unique=False)
    op.create_index(
        "uq_booking_active_visit_resident",
        "booking",
        ["visit_id", "resident_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade():
    op.drop_index("uq_booking_active_visit_resident", table_name="booking")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_visit_id")
        batch_op.create_unique_constraint(
            "uq_booking_visit_id_resident_id", ["visit_id", "resident_id"]
        )

"""dispatch_offer: score -> dispatch_breakdown (one word per concept)

The offer keeps the same breakdown as the order's `dispatch_breakdown` (why dispatch chose
this engineer): one name for both. Rename only (docs/api-changes.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:55:00

"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dispatch_offer", schema=None) as batch_op:
        batch_op.alter_column("score", new_column_name="dispatch_breakdown")


def downgrade():
    with op.batch_alter_table("dispatch_offer", schema=None) as batch_op:
        batch_op.alter_column("dispatch_breakdown", new_column_name="score")

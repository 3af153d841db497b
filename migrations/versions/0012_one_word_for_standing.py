"""engineer_community, service_order: one word per concept

engineer_community.composite_score -> standing, engineer_community.score_breakdown ->
standing_breakdown (what the standing is made of), service_order.score_breakdown ->
dispatch_breakdown (why dispatch chose this engineer, or nobody). Renames only: data,
nullability and indexes are unchanged (docs/api-changes.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00

"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("engineer_community", schema=None) as batch_op:
        batch_op.alter_column("composite_score", new_column_name="standing")
        batch_op.alter_column("score_breakdown", new_column_name="standing_breakdown")
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.alter_column("score_breakdown", new_column_name="dispatch_breakdown")


def downgrade():
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.alter_column("dispatch_breakdown", new_column_name="score_breakdown")
    with op.batch_alter_table("engineer_community", schema=None) as batch_op:
        batch_op.alter_column("standing_breakdown", new_column_name="score_breakdown")
        batch_op.alter_column("standing", new_column_name="composite_score")

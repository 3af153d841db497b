"""service_order, coupon: the fingerprint of the request that carried an Idempotency-Key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: rows from before cannot be compared, and their repeats are answered as before.
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_fingerprint", sa.String(length=64), nullable=True))
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_fingerprint", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.drop_column("idempotency_fingerprint")
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.drop_column("idempotency_fingerprint")

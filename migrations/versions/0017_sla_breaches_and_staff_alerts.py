"""Promises kept (SLA): breaches recorded once, staff alerts, deadline indexes

sla_breach holds each step of an order that missed its deadline, unique per (order, step), so
the periodic check and a late transition count it once. staff_alert is the managers' inbox of
such orders (region-scoped through the community), with each reader's read state in
staff_alert_read. service_order gets one partial index per step on its deadline, holding only
the orders at that step.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The statuses of each step (models/order.py SLA_STEP_STATUSES), as the indexes' condition.
STEPS = {
    "accept": "status IN ('created', 'dispatching', 'offered', 'unassigned')",
    "arrive": "status IN ('accepted', 'en_route')",
    "complete": "status IN ('in_service')",
}


def upgrade():
    op.create_table(
        "sla_breach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["engineer_id"], ["engineer.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "step"),
    )
    op.create_table(
        "staff_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_staff_alert_created", "staff_alert", ["created_at"])
    op.create_table(
        "staff_alert_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["staff_alert.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_user_id", "alert_id"),
    )
    for step, condition in STEPS.items():
        op.create_index(
            f"ix_service_order_{step}_due",
            "service_order",
            [f"{step}_due_at"],
            postgresql_where=sa.text(condition),
            sqlite_where=sa.text(condition),
        )


def downgrade():
    for step in reversed(STEPS):
        op.drop_index(f"ix_service_order_{step}_due", table_name="service_order")
    op.drop_table("staff_alert_read")
    op.drop_index("ix_staff_alert_created", table_name="staff_alert")
    op.drop_table("staff_alert")
    op.drop_table("sla_breach")

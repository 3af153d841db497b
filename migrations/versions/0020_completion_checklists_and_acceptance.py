"""Completion checklists and the resident's acceptance (完工验收)

checklist_item holds each service type's completion checklist (yes/no, number with unit and
range, text, photo; required or not), one row per item in its place, keyed per service type.
service_order gets the checklist as the engineer filled it and a completion note, and the
resident's acceptance: its state (pending after completion, confirmed, auto_confirmed,
disputed), when it was confirmed, the signature, and a dispute's time, reason and photos;
with a partial index on completed_at of the orders still waiting for their resident (the
periodic auto-confirmation reads only those). Orders completed before this revision had
their consequences (points, standing, coupon, butler's reward) at completion: they are
marked confirmed, at their completion time, so nothing is counted again. The monthly KPI
rollups get a `disputes` counter (community and engineer).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# models/order.py PENDING_ACCEPTANCE, word for word.
PENDING = sa.text("acceptance = 'pending'")


def upgrade():
    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_type_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('yes_no', 'number', 'text', 'photo')", name="checklist_item_kind"
        ),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value",
            name="checklist_item_range",
        ),
        sa.ForeignKeyConstraint(["service_type_id"], ["service_type.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_type_id", "key"),
        sa.UniqueConstraint("service_type_id", "position"),
    )
    op.create_index("ix_checklist_item_service_type_id", "checklist_item", ["service_type_id"])
    with op.batch_alter_table("service_order") as batch_op:
        batch_op.add_column(
            sa.Column(
                "checklist_answers", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
        batch_op.add_column(sa.Column("completion_note", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("acceptance", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("signature_url", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dispute_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("dispute_photos", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.execute(
        "UPDATE service_order SET acceptance = 'confirmed', confirmed_at = completed_at "
        "WHERE status = 'completed'"
    )
    op.create_index(
        "ix_service_order_acceptance_pending",
        "service_order",
        ["completed_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    for table in ("community_month_kpi", "engineer_month_kpi"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("disputes", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade():
    for table in ("engineer_month_kpi", "community_month_kpi"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("disputes")
    op.drop_index(
        "ix_service_order_acceptance_pending",
        table_name="service_order",
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    with op.batch_alter_table("service_order") as batch_op:
        for column in (
            "dispute_photos",
            "dispute_reason",
            "disputed_at",
            "signature_url",
            "confirmed_at",
            "acceptance",
            "completion_note",
            "checklist_answers",
        ):
            batch_op.drop_column(column)
    op.drop_index("ix_checklist_item_service_type_id", table_name="checklist_item")
    op.drop_table("checklist_item")

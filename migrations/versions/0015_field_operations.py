"""Field operations (issue 14): address book, order contact snapshot, SLA, urges, second visits

resident_address (a resident's doors in their bound communities); on service_order the address
and contact snapshot, SLA deadlines and state, urge and reschedule counts, the engineer's
proposed window, the parent of a second visit, and started_at; SLA targets on service_type;
SLA breaches, urges and repeat visits on community_month_kpi; engineer_month_kpi.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resident_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("contact_name", sa.String(length=32), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_resident_address_resident_id"), "resident_address", ["resident_id"])
    with op.batch_alter_table("service_type") as batch_op:
        batch_op.add_column(sa.Column("sla_accept_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sla_arrive_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sla_complete_minutes", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE service_type SET sla_accept_minutes = 30, sla_arrive_minutes = 30, "
        "sla_complete_minutes = 240"
    )
    with op.batch_alter_table("service_order") as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("address_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("address_text", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("contact_name", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("contact_mobile", sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column("accept_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrive_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("complete_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("sla_state", sa.String(length=16), nullable=False, server_default="on_track")
        )
        batch_op.add_column(sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("urge_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_urged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("reschedule_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("proposed_window_start", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("proposed_window_end", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("parent_order_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_service_order_address_id",
            "resident_address",
            ["address_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_service_order_parent_order_id", "service_order", ["parent_order_id"], ["id"]
        )
        batch_op.create_index("ix_service_order_status_created", ["status", "created_at"])
        batch_op.create_index("ix_service_order_parent", ["parent_order_id"])
    with op.batch_alter_table("service_order") as batch_op:
        batch_op.alter_column("sla_state", server_default=None)
        batch_op.alter_column("urge_count", server_default=None)
        batch_op.alter_column("reschedule_count", server_default=None)
    with op.batch_alter_table("community_month_kpi") as batch_op:
        for name in ("sla_breaches", "urges", "repeat_visits"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("community_month_kpi") as batch_op:
        for name in ("sla_breaches", "urges", "repeat_visits"):
            batch_op.alter_column(name, server_default=None)
    op.create_table(
        "engineer_month_kpi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("orders_completed", sa.Integer(), nullable=False),
        sa.Column("sla_breaches", sa.Integer(), nullable=False),
        sa.Column("urges", sa.Integer(), nullable=False),
        sa.Column("repeat_visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["engineer_id"], ["engineer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("engineer_id", "month"),
    )


def downgrade():
    op.drop_table("engineer_month_kpi")
    with op.batch_alter_table("community_month_kpi") as batch_op:
        for name in ("sla_breaches", "urges", "repeat_visits"):
            batch_op.drop_column(name)
    with op.batch_alter_table("service_order") as batch_op:
        batch_op.drop_index("ix_service_order_parent")
        batch_op.drop_index("ix_service_order_status_created")
        batch_op.drop_constraint("fk_service_order_parent_order_id", type_="foreignkey")
        batch_op.drop_constraint("fk_service_order_address_id", type_="foreignkey")
        for name in (
            "parent_order_id",
            "proposed_window_end",
            "proposed_window_start",
            "reschedule_count",
            "last_urged_at",
            "urge_count",
            "sla_breached_at",
            "sla_state",
            "complete_due_at",
            "arrive_due_at",
            "accept_due_at",
            "contact_mobile",
            "contact_name",
            "address_text",
            "address_id",
            "started_at",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("service_type") as batch_op:
        for name in ("sla_complete_minutes", "sla_arrive_minutes", "sla_accept_minutes"):
            batch_op.drop_column(name)
    op.drop_index(op.f("ix_resident_address_resident_id"), table_name="resident_address")
    op.drop_table("resident_address")

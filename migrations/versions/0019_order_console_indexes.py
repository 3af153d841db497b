"""Indexes for the managers' order console (GET /orders)

service_order (created_at) serves the unfiltered list (全部, newest or oldest first) and
created ranges, which otherwise sort every order. service_order (created_at) WHERE the order is
unfinished serves the queues over several states (已超时, 被催单: unfinished and breached or
urged), a few thousand entries however long the history; without it PostgreSQL walks the full
created_at index from the oldest order looking for unfinished ones. community (province) lets
a region given as a province find its communities by index, as city already does. Plans and
figures: docs/console.md (bench/order_console.py).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# models/order.py UNFINISHED, word for word (the planner matches a query's states against it).
UNFINISHED = sa.text(
    "status IN ('created', 'dispatching', 'offered', 'unassigned', 'accepted', 'en_route', "
    "'in_service')"
)


def upgrade():
    op.create_index("ix_service_order_created", "service_order", ["created_at"])
    op.create_index(
        "ix_service_order_unfinished_created",
        "service_order",
        ["created_at"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )
    op.create_index("ix_community_province", "community", ["province"])


def downgrade():
    op.drop_index("ix_community_province", table_name="community")
    op.drop_index(
        "ix_service_order_unfinished_created",
        table_name="service_order",
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )
    op.drop_index("ix_service_order_created", table_name="service_order")

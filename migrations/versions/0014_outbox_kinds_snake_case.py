"""outbox_message: one spelling per message kind (snake_case, as notification kinds)

order.dispatch -> order_dispatch, visit.announced -> visit_announced, resident.notify ->
resident_notify, standing.recompute -> standing_recompute, for rows still in flight.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 09:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

RENAMES = {
    "order.dispatch": "order_dispatch",
    "visit.announced": "visit_announced",
    "resident.notify": "resident_notify",
    "standing.recompute": "standing_recompute",
}


def _rename(pairs):
    outbox = sa.table("outbox_message", sa.column("kind", sa.String))
    for old, new in pairs:
        op.execute(outbox.update().where(outbox.c.kind == old).values(kind=new))


def upgrade():
    _rename(RENAMES.items())


def downgrade():
    _rename((new, old) for old, new in RENAMES.items())

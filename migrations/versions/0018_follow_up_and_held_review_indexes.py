"""Indexes for the managers' queues: one community's follow-ups, and held reviews

follow_up (community_id, status, created_at) serves GET /follow-ups?community_id= (a
community's page in the dashboard); review (created_at) WHERE status = 'held' serves the
staff review queue (GET /moderation/held), which now lists held reviews with held questions
and answers, without reading every review.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

HELD = sa.text("status = 'held'")


def upgrade():
    op.create_index(
        "ix_follow_up_community_status_created",
        "follow_up",
        ["community_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_review_held",
        "review",
        ["created_at"],
        unique=False,
        postgresql_where=HELD,
        sqlite_where=HELD,
    )


def downgrade():
    op.drop_index("ix_review_held", table_name="review", postgresql_where=HELD, sqlite_where=HELD)
    op.drop_index("ix_follow_up_community_status_created", table_name="follow_up")

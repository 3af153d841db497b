"""KPI table at scale (issue 16, part 5): sortable figures kept with the monthly rollups

community_month_kpi gets the community's household count and the orders and complaints of
the month before and of the same month a year before (filled here from the existing rows),
then every derived figure the managers' table sorts by as a generated column, and two
indexes per sort key, (month, figure, community_id) and (month, figure, community_id DESC),
one for each direction (ties go by community id ascending in both); the plain (month)
index gives way to (month, community_id). community_month_kpi_fill records how far each
month has a row for every community (quiet ones with zeros). A trigger carries a change of
community.household_count into the community's rows, whatever path makes it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 13:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# models/kpi.py FIGURES and INDEXED as of this revision, word for word.
FIGURES = {
    "orders_per_1000": "orders_created * 1000.0 / NULLIF(households, 0)",
    "complaints_per_1000": "complaints * 1000.0 / NULLIF(households, 0)",
    "orders_mom": "(orders_created - orders_before) * 1.0 / NULLIF(orders_before, 0)",
    "orders_yoy": "(orders_created - orders_year_ago) * 1.0 / NULLIF(orders_year_ago, 0)",
    "complaints_mom": "(complaints - complaints_before) * 1.0 / NULLIF(complaints_before, 0)",
    "complaints_yoy": "(complaints - complaints_year_ago) * 1.0 / NULLIF(complaints_year_ago, 0)",
    "orders_per_1000_mom": "CASE WHEN households > 0 THEN (orders_created - orders_before) * 1.0 "
    "/ NULLIF(orders_before, 0) END",
    "complaints_per_1000_mom": "CASE WHEN households > 0 THEN (complaints - complaints_before) * "
    "1.0 / NULLIF(complaints_before, 0) END",
    "average_rating": "rating_sum * 1.0 / NULLIF(rating_count, 0)",
    "accept_minutes": "accept_seconds / 60.0 / NULLIF(accepted, 0)",
    "on_time_rate": "arrivals_on_time * 1.0 / NULLIF(arrivals_with_window, 0)",
    "first_time_fix_rate": "CASE WHEN orders_completed > 0 THEN CASE WHEN repeat_visits > "
    "orders_completed THEN 0.0 ELSE 1 - repeat_visits * 1.0 / "
    "orders_completed END END",
    "satisfaction_index": "CASE WHEN rating_count > 0 THEN 100 * (0.5 * ((4.0 * 5 + rating_sum) "
    "* 1.0 / (5 + rating_count) - 1) / 4 + 0.3 * (1 - CASE WHEN 5 * "
    "complaints > CASE WHEN orders_completed > 1 THEN orders_completed "
    "ELSE 1 END THEN 1.0 ELSE 5.0 * complaints / CASE WHEN "
    "orders_completed > 1 THEN orders_completed ELSE 1 END END) + 0.2 * "
    "CASE WHEN arrivals_with_window > 0 THEN arrivals_on_time * 1.0 / "
    "arrivals_with_window ELSE 1.0 END) END",
}
INDEXED = (
    "orders_created",
    "orders_completed",
    "orders_cancelled",
    "complaints",
    "active_residents",
    "sla_breaches",
    "urges",
    "repeat_visits",
    "disputes",
    "orders_per_1000",
    "complaints_per_1000",
    "orders_mom",
    "orders_yoy",
    "complaints_mom",
    "complaints_yoy",
    "orders_per_1000_mom",
    "complaints_per_1000_mom",
    "average_rating",
    "accept_minutes",
    "on_time_rate",
    "first_time_fix_rate",
    "satisfaction_index",
    "households",
)


def shift_month(month: str, months: int) -> str:
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


CONTEXT = (
    "households",
    "orders_before",
    "complaints_before",
    "orders_year_ago",
    "complaints_year_ago",
)

PG_TRIGGER = (
    """
    CREATE FUNCTION community_households_to_kpi() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE community_month_kpi SET households = NEW.household_count
        WHERE community_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER community_households_to_kpi AFTER UPDATE OF household_count ON community
    FOR EACH ROW WHEN (OLD.household_count IS DISTINCT FROM NEW.household_count)
    EXECUTE FUNCTION community_households_to_kpi()
    """,
)
SQLITE_TRIGGER = (
    """
    CREATE TRIGGER community_households_to_kpi AFTER UPDATE OF household_count ON community
    FOR EACH ROW WHEN OLD.household_count IS NOT NEW.household_count
    BEGIN
        UPDATE community_month_kpi SET households = NEW.household_count
        WHERE community_id = NEW.id;
    END
    """,
)


def _backfill(bind) -> None:
    bind.execute(
        sa.text(
            "UPDATE community_month_kpi SET households = COALESCE((SELECT household_count "
            "FROM community WHERE community.id = community_month_kpi.community_id), 0)"
        )
    )
    months = bind.execute(sa.text("SELECT DISTINCT month FROM community_month_kpi")).scalars()
    for month in list(months):
        bind.execute(
            sa.text(
                "UPDATE community_month_kpi SET "
                "orders_before = COALESCE((SELECT o.orders_created FROM community_month_kpi o "
                "WHERE o.community_id = community_month_kpi.community_id AND o.month = :b), 0), "
                "complaints_before = COALESCE((SELECT o.complaints FROM community_month_kpi o "
                "WHERE o.community_id = community_month_kpi.community_id AND o.month = :b), 0), "
                "orders_year_ago = COALESCE((SELECT o.orders_created FROM community_month_kpi o "
                "WHERE o.community_id = community_month_kpi.community_id AND o.month = :y), 0), "
                "complaints_year_ago = COALESCE((SELECT o.complaints FROM community_month_kpi o "
                "WHERE o.community_id = community_month_kpi.community_id AND o.month = :y), 0) "
                "WHERE month = :m"
            ),
            {"m": month, "b": shift_month(month, -1), "y": shift_month(month, -12)},
        )


def upgrade():
    bind = op.get_bind()
    for name in CONTEXT:
        op.add_column(
            "community_month_kpi",
            sa.Column(name, sa.Integer(), nullable=False, server_default="0"),
        )
    _backfill(bind)
    for name, expression in FIGURES.items():
        op.add_column(
            "community_month_kpi",
            sa.Column(name, sa.Float(), sa.Computed(expression), nullable=True),
        )
    op.drop_index("ix_community_month_kpi_month", table_name="community_month_kpi")
    op.create_index(
        "ix_community_month_kpi_month_community",
        "community_month_kpi",
        ["month", "community_id"],
    )
    for name in INDEXED:
        op.create_index(
            f"ix_community_month_kpi_{name}",
            "community_month_kpi",
            ["month", name, "community_id"],
        )
        op.create_index(
            f"ix_community_month_kpi_{name}_desc",
            "community_month_kpi",
            ["month", name, sa.text("community_id DESC")],
        )
    op.create_table(
        "community_month_kpi_fill",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("up_to_community_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    for statement in PG_TRIGGER if bind.dialect.name == "postgresql" else SQLITE_TRIGGER:
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    op.execute(
        "DROP TRIGGER IF EXISTS community_households_to_kpi"
        + (" ON community" if bind.dialect.name == "postgresql" else "")
    )
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS community_households_to_kpi()")
    op.drop_table("community_month_kpi_fill")
    for name in INDEXED:
        op.drop_index(f"ix_community_month_kpi_{name}", table_name="community_month_kpi")
        op.drop_index(f"ix_community_month_kpi_{name}_desc", table_name="community_month_kpi")
    op.drop_index("ix_community_month_kpi_month_community", table_name="community_month_kpi")
    op.create_index("ix_community_month_kpi_month", "community_month_kpi", ["month"])
    with op.batch_alter_table("community_month_kpi") as batch:
        for name in (*FIGURES, *CONTEXT):
            batch.drop_column(name)

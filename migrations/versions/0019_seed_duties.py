"""official calendar days: a year's State Council schedule loaded by the operator

Revision ID: 0019_seed_duties
Revises: 0016_report_covering
Create Date: 2026-12-07 14:00:00

``tousu calendar load FILE`` stores the days off and make-up working days of a year the
``holidays`` package does not carry yet (issue 23 §6). Platform data without a tenant
column: every tenant's calendar reads it (no row-level policy; the app role gets its usual
grants from core/db_security.py).

``ledger_lines.appraisal_points``: the monthly appraisal points of the person's penalties
decided in the month (扣除月度绩效考评5分 / 10分 [000 §篇7 六2–3], issue 23 §4).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_seed_duties"
down_revision = "0017_search_masked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "official_calendar_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_official_calendar_days_year", "official_calendar_days", ["year"])
    # 扣除月度绩效考评…分 [000 §篇7 六]: the month's appraisal points on each ledger line
    with op.batch_alter_table("ledger_lines") as batch:
        batch.add_column(
            sa.Column("appraisal_points", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_lines") as batch:
        batch.drop_column("appraisal_points")
    op.drop_index("ix_official_calendar_days_year", table_name="official_calendar_days")
    op.drop_table("official_calendar_days")

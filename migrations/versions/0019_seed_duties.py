"""official calendar days: a year's State Council schedule loaded by the operator

Revision ID: 0019_seed_duties
Revises: 0016_report_covering
Create Date: 2026-12-07 14:00:00

``tousu calendar load FILE`` stores the days off and make-up working days of a year the
``holidays`` package does not carry yet (issue 23 §6). Platform data without a tenant
column: every tenant's calendar reads it (no row-level policy; the app role gets its usual
grants from core/db_security.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_seed_duties"
down_revision = "0016_report_covering"
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


def downgrade() -> None:
    op.drop_index("ix_official_calendar_days_year", table_name="official_calendar_days")
    op.drop_table("official_calendar_days")

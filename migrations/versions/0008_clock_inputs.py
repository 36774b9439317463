"""step clocks keep their inputs: finished pauses and approved extensions

Revision ID: 0008_time_clock_inputs
Revises: 0007_dbguard_append_only
Create Date: 2026-11-30 10:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_time_clock_inputs"
down_revision = "0007_dbguard_append_only"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("step_clocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pauses", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("extensions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("step_clocks", schema=None) as batch_op:
        batch_op.drop_column("extensions")
        batch_op.drop_column("pauses")

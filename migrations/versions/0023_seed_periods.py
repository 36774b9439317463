"""appraisal points per penalty in the ledger; units' monthly bulletins (issue 23)

Revision ID: 0023_seed_periods
Revises: 0022_queue_stamp
Create Date: 2026-12-07 17:10:00

- ``deductions.appraisal_points``: the points of a penalty counted on a run's line (the
  month it was decided in), negative in a later run that gives them back because the
  penalty was superseded [000 §篇7 六2–3]. Runs made before this revision recorded the
  month's total on the line only: their penalties' points cannot be given back.
- ``ledger_lines.appraisal_points_credited``: the points given back on a line.
- ``unit_bulletin_issues``: each unit's monthly 《投诉事件通报》 recorded as formed
  [002 《客户投诉管理考核办法》第二十二条] (:mod:`core.reports.unit_bulletins`). Tenant-scoped,
  so :func:`core.db_security.secure` gives it its row-level-security policy on PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_seed_periods"
down_revision = "0022_queue_stamp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deductions") as b:
        b.add_column(sa.Column("appraisal_points", sa.Integer(), server_default="0",
                               nullable=False))  # fmt: skip
    with op.batch_alter_table("ledger_lines") as b:
        b.add_column(sa.Column("appraisal_points_credited", sa.Integer(), server_default="0",
                               nullable=False))  # fmt: skip
    op.create_table(
        "unit_bulletin_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_unit_bulletin_issues_department_id_departments")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_unit_bulletin_issues_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_bulletin_issues")),
        sa.UniqueConstraint("tenant_id", "period", "department_id",
                            name=op.f("uq_unit_bulletin_issues_tenant_id_period_department_id")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_unit_bulletin_issues_tenant_id"), "unit_bulletin_issues", ["tenant_id"]
    )


def downgrade() -> None:
    op.drop_table("unit_bulletin_issues")
    with op.batch_alter_table("ledger_lines") as b:
        b.drop_column("appraisal_points_credited")
    with op.batch_alter_table("deductions") as b:
        b.drop_column("appraisal_points")

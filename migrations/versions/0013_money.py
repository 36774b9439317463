"""ledger consequences: forfeited month pay, credits; unit appraisals; report pack issues

Revision ID: 0013_money
Revises: 0012_duties

Issue 12 §5. ``deductions.forfeited_fen`` / ``ledger_lines.forfeited_fen``: the month's
performance pay taken whole by a penalty that says so [000 §篇7 六4];
``ledger_lines.credited_fen``: what a run gave back for penalties superseded after they were
deducted. ``unit_appraisals``: the half-yearly appraisal of units, proposed by marketing and
approved by the quality-service leading group [002 《客户投诉管理考核办法》第二十七条].
``report_issues``: when the month's report pack was issued against its due date
[000 §篇1 4(4)7].
"""

from alembic import op
import sqlalchemy as sa


revision = "0013_money"
down_revision = "0012_duties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("penalties") as b:
        b.add_column(sa.Column("source", sa.String(length=16), nullable=False,
                               server_default="grading"))  # fmt: skip
    with op.batch_alter_table("deductions") as b:
        b.add_column(sa.Column("forfeited_fen", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("ledger_lines") as b:
        b.add_column(sa.Column("forfeited_fen", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("credited_fen", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "unit_appraisals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("half", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["proposed_by"], ["users.id"],
                                name=op.f("fk_unit_appraisals_proposed_by_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"],
                                name=op.f("fk_unit_appraisals_decided_by_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_unit_appraisals_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_appraisals")),
    )  # fmt: skip
    op.create_index("ix_unit_appraisals_half", "unit_appraisals", ["tenant_id", "half"])
    op.create_index(op.f("ix_unit_appraisals_tenant_id"), "unit_appraisals", ["tenant_id"])
    op.create_table(
        "report_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_report_issues_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_issues")),
        sa.UniqueConstraint("tenant_id", "period", name=op.f("uq_report_issues_tenant_id_period")),
    )  # fmt: skip
    op.create_index(op.f("ix_report_issues_tenant_id"), "report_issues", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("report_issues")
    op.drop_table("unit_appraisals")
    with op.batch_alter_table("ledger_lines") as b:
        b.drop_column("credited_fen")
        b.drop_column("forfeited_fen")
    with op.batch_alter_table("deductions") as b:
        b.drop_column("forfeited_fen")
    with op.batch_alter_table("penalties") as b:
        b.drop_column("source")

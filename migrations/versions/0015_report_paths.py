"""report paths: ticket events found by tenant, action and time

Revision ID: 0015_report_paths
Revises: 0013_money
Create Date: 2026-11-30 13:40:00

The bulletin picks the window's cases as "graded in the window, or closed in it"; the graded
half reads ``ticket_events`` by (tenant, action, time) — without this index a month's
bulletin at 1M tickets walked every event of the tenant (issue 10 §3).
"""

from alembic import op

revision = "0015_report_paths"
down_revision = "0013_money"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ticket_events_tenant_action_at", "ticket_events", ["tenant_id", "action", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_events_tenant_action_at", table_name="ticket_events")

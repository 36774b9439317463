"""saved queue views; indexes for the queue's filters and sorts (issue 20 §1)

Revision ID: 0021_queue_views
Revises: 0016_report_covering
Create Date: 2026-12-07 14:10:00

``saved_views``: a user's named queue views (``user_id`` set) and a tenant's shared ones
(``user_id`` NULL) — :mod:`core.flow.views`. Tenant-scoped like every tenant table, so
:func:`core.db_security.secure` gives it its row-level-security policy on PostgreSQL.

Indexes for :mod:`core.flow.listing` at 1M tickets (PostgreSQL only, ``ix_cover_*`` like
0016's, left out of the model comparison; SQLite's small tenants read their few rows):

- ``step_clocks (tenant_id, ticket_id) INCLUDE (state, due_at, breached_at) WHERE
  ended_at IS NULL`` — the open clocks of a ticket, read by the overdue / due-soon filters
  and the due-time sort from the index alone (open clocks are a small share of all);
- ``step_clocks (tenant_id, due_at) INCLUDE (ticket_id, state, breached_at) WHERE ended_at
  IS NULL`` — "overdue" from the clocks' side: the planner can walk the clocks past due
  instead of every ticket;
- ``tickets (tenant_id, owner_user_id, id)`` — "mine" and "owner", newest first.

Channel, category and severity filters ride on ``ix_cover_tickets_received`` (0016) or
the tenant's newest-first walk; they are not selective enough to earn an index each.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_queue_views"
down_revision = "0020_notification_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_saved_views_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )  # fmt: skip
    op.create_index(op.f("ix_saved_views_tenant_id"), "saved_views", ["tenant_id"])
    op.create_index("ix_saved_views_tenant_user", "saved_views", ["tenant_id", "user_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_cover_step_clocks_open",
        "step_clocks",
        ["tenant_id", "ticket_id"],
        postgresql_include=["state", "due_at", "breached_at"],
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_cover_step_clocks_open_due",
        "step_clocks",
        ["tenant_id", "due_at"],
        postgresql_include=["ticket_id", "state", "breached_at"],
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_cover_tickets_owner", "tickets", ["tenant_id", "owner_user_id", "id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cover_tickets_owner", table_name="tickets")
        op.drop_index("ix_cover_step_clocks_open_due", table_name="step_clocks")
        op.drop_index("ix_cover_step_clocks_open", table_name="step_clocks")
    op.drop_index("ix_saved_views_tenant_user", table_name="saved_views")
    op.drop_index("ix_saved_views_tenant_id", table_name="saved_views")
    op.drop_table("saved_views")

"""tickets (tenant_id, updated_at): the live queue's "anything new?" stamp (issue 20 §3)

Revision ID: 0022_queue_stamp
Revises: 0021_queue_views
Create Date: 2026-12-07 17:50:00

The console's queue asks, on every load and every poll of its live refresh, for the newest
change among the reader's tickets: ``max(updated_at), max(id)`` (``core.console.queue``).
``max(id)`` reads ``ix_tickets_tenant_id_desc``; ``max(updated_at)`` had no index and read
every ticket of the tenant: 400 ms at 1M tickets on the bench machine, per open queue and
poll. With this index it reads one entry from its end: 0.15 ms (BENCHMARKS.md, session 6).

On the models too (``Ticket.__table_args__``) and on both backends: a plain two-column
index. Its cost: one more index entry per ticket written or updated (``updated_at`` changes
on every update; tickets are updated on indexed columns almost always already, so few HOT
updates are lost); about 30 MB at 1M tickets. Built in the migration's transaction: writes
to ``tickets`` wait while it is built (2.6 s at 1M tickets on the bench machine).
"""

from alembic import op

revision = "0022_queue_stamp"
down_revision = "0021_queue_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_tenant_updated", "tickets", ["tenant_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_tenant_updated", table_name="tickets")

"""report covering indexes (PostgreSQL): a month's reports read indexes, not the heap

Revision ID: 0016_report_covering
Revises: 0015_report_paths
Create Date: 2026-11-30 17:00:00

A month at 1M tickets is ~50k tickets scattered over the whole table (ids follow intake,
months follow ``created_at``; a ticket's row moves on every update), so statistics and KPIs
read most of the table's pages at random to find them, and the KPIs then read a heap page
per ticket for its clocks and another for its reply and follow-up events (issue 10 §3).
Three indexes carry what those statements read, so PostgreSQL answers them from the index
alone (an index-only scan; the visibility map is kept by autovacuum):

- ``tickets (tenant_id, created_at)`` with the columns statistics, the KPI cohort and the
  repeat-complaint pass read (measured at 1M: statistics 170 → 65 ms, the KPI cohort
  75 → 10 ms a statement, the repeat pass's two months 195 → 20 ms of reading);
- ``step_clocks (tenant_id, ticket_id, step)`` with state and due time (on-time rates);
- ``ticket_events (tenant_id, ticket_id, action)`` with seq and time (follow-up rate,
  satisfaction, the missing follow-ups).

Their cost: one more index entry per ticket, clock or event written (tickets and clocks are
updated on indexed columns already, so no update that was HOT stops being one), and about
140 + 55 + 80 MB at 1M tickets. ``INCLUDE`` is PostgreSQL's, and SQLite — the embedded
default, for small tenants — reads its few rows well enough, so they exist on PostgreSQL only
and, like the search indexes of 0009, not on the models (``migrations/env.py`` leaves
``ix_cover_*`` out of the comparison). Built in the migration's transaction: writes to the
three tables wait while they are built (about 3 s at 1M tickets on the bench machine).
"""

from alembic import op

revision = "0016_report_covering"
down_revision = "0015_report_paths"
branch_labels = None
depends_on = None

INDEXES = (
    (
        "ix_cover_tickets_received",
        "tickets",
        ["tenant_id", "created_at"],
        [
            "id", "counts_as_complaint", "valid", "communicative", "state", "resolution",
            "redispatch_count", "reopen_count", "number", "complainant_contact", "category",
            "severity", "channel", "accused_department_id", "assigned_department_id",
        ],
    ),
    ("ix_cover_step_clocks_ticket", "step_clocks", ["tenant_id", "ticket_id", "step"],
     ["state", "due_at"]),
    ("ix_cover_ticket_events_ticket", "ticket_events", ["tenant_id", "ticket_id", "action"],
     ["seq", "at"]),
)  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, columns, include in INDEXES:
        op.create_index(name, table, columns, postgresql_include=include)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table)

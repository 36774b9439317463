"""ticket search: SQLite FTS5 trigram table, PostgreSQL pg_trgm GIN indexes

Revision ID: 0009_ticket_search
Revises: 0008_console_auth
Create Date: 2026-11-30 10:40:00

Neither lives on the models (``migrations/env.py`` leaves them out of the comparison):
an FTS5 virtual table and trigram operator-class indexes are backend-specific.
"""

from alembic import op


revision = '0009_ticket_search'
down_revision = '0008_console_auth'
branch_labels = None
depends_on = None

TRGM_COLUMNS = ("number", "description", "demands", "complainant_contact")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for col in TRGM_COLUMNS:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_search_tickets_{col} ON tickets "
                f"USING gin ({col} gin_trgm_ops)"
            )
        return
    op.execute(
        "CREATE VIRTUAL TABLE ticket_search USING fts5("
        "number, contact, body, tokenize = 'trigram')"
    )
    row = "(new.id, new.number, new.complainant_contact, new.description || ' ' || new.demands)"
    op.execute(
        "CREATE TRIGGER ticket_search_ai AFTER INSERT ON tickets BEGIN "
        f"INSERT INTO ticket_search(rowid, number, contact, body) VALUES {row}; END"
    )
    op.execute(
        "CREATE TRIGGER ticket_search_au AFTER UPDATE OF number, complainant_contact, "
        "description, demands ON tickets BEGIN "
        "DELETE FROM ticket_search WHERE rowid = old.id; "
        f"INSERT INTO ticket_search(rowid, number, contact, body) VALUES {row}; END"
    )
    op.execute(
        "CREATE TRIGGER ticket_search_ad AFTER DELETE ON tickets BEGIN "
        "DELETE FROM ticket_search WHERE rowid = old.id; END"
    )
    op.execute(
        "INSERT INTO ticket_search(rowid, number, contact, body) "
        "SELECT id, number, complainant_contact, description || ' ' || demands FROM tickets"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for col in TRGM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_search_tickets_{col}")
        return
    for name in ("ticket_search_ai", "ticket_search_au", "ticket_search_ad"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS ticket_search")

"""search over what the reader may see: tickets.search_full and tickets.search_masked

Revision ID: 0017_search_masked
Revises: 0016_report_covering
Create Date: 2026-12-07 14:10:00

Issue 21 item 1: search matched the raw description, so a reader shown the complainant
masked recovered a phone number digit by digit. Two normalised columns
(:mod:`core.tickets.search_text`): ``search_full`` (description, demands, the
complainant's name, contact, address) for readers who see the complainant, and
``search_masked`` (description and demands as masked for the others). Existing rows are
filled here, in batches, by the same Python function the app uses on insert.

Indexes: on PostgreSQL pg_trgm GIN on both columns replace the ones of 0009 on description,
demands and contact (no query reads those any more; the one on number stays). On SQLite the
FTS5 trigram table ``ticket_search`` is rebuilt with columns number, full, masked, kept by
the same kind of triggers as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_search_masked"
down_revision = "0016_report_covering"
branch_labels = None
depends_on = None

OLD_TRGM = ("description", "demands", "complainant_contact")
NEW_TRGM = ("search_full", "search_masked")
BATCH = 2000


def _fill() -> None:
    from core.tickets.search_text import full_text, masked_text

    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, description, demands, complainant_name, complainant_contact, "
                "complainant_address FROM tickets WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text("UPDATE tickets SET search_full = :f, search_masked = :m WHERE id = :id"),
            [{"id": r[0], "f": full_text(*r[1:]), "m": masked_text(*r[1:])} for r in rows],
        )
        last = rows[-1][0]


_ROW = "(new.id, new.number, new.search_full, new.search_masked)"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("search_full", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("search_masked", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        _fill()
        for col in OLD_TRGM:
            op.execute(f"DROP INDEX IF EXISTS ix_search_tickets_{col}")
        for col in NEW_TRGM:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_search_tickets_{col} ON tickets "
                f"USING gin ({col} gin_trgm_ops)"
            )
        return
    for name in ("ticket_search_ai", "ticket_search_au", "ticket_search_ad"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS ticket_search")
    _fill()
    op.execute(
        "CREATE VIRTUAL TABLE ticket_search USING fts5(number, full, masked, tokenize = 'trigram')"
    )
    op.execute(
        "CREATE TRIGGER ticket_search_ai AFTER INSERT ON tickets BEGIN "
        f"INSERT INTO ticket_search(rowid, number, full, masked) VALUES {_ROW}; END"
    )
    op.execute(
        "CREATE TRIGGER ticket_search_au AFTER UPDATE OF number, search_full, search_masked "
        "ON tickets BEGIN "
        "DELETE FROM ticket_search WHERE rowid = old.id; "
        f"INSERT INTO ticket_search(rowid, number, full, masked) VALUES {_ROW}; END"
    )
    op.execute(
        "CREATE TRIGGER ticket_search_ad AFTER DELETE ON tickets BEGIN "
        "DELETE FROM ticket_search WHERE rowid = old.id; END"
    )
    op.execute(
        "INSERT INTO ticket_search(rowid, number, full, masked) "
        "SELECT id, number, search_full, search_masked FROM tickets"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for col in NEW_TRGM:
            op.execute(f"DROP INDEX IF EXISTS ix_search_tickets_{col}")
        for col in OLD_TRGM:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_search_tickets_{col} ON tickets "
                f"USING gin ({col} gin_trgm_ops)"
            )
    else:
        for name in ("ticket_search_ai", "ticket_search_au", "ticket_search_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS ticket_search")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy would drop the referenced
    # tickets table
    op.drop_column("tickets", "search_masked")
    op.drop_column("tickets", "search_full")
    if op.get_bind().dialect.name != "postgresql":  # 0009's table, as it was
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

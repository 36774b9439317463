"""separation of duties: a ticket's named owner, a penalty's proposer

Revision ID: 0012_duties
Revises: 0011_flow
Create Date: 2026-11-30 14:00:00

``tickets.owner_user_id``: the named person who follows a registered ticket until it is
closed ("一经立项,有关人员就有责任跟进、催办,直到销项" [000 §篇1 5(5)1②c]).
``penalties.proposed_by``: whoever graded (or found the falsified reply) that led to the
proposal, who may not decide it (separation of duties).
"""

from alembic import op
import sqlalchemy as sa


revision = "0012_duties"
down_revision = "0011_flow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: a batch copy of ``tickets`` would drop the search triggers
        # of 0009_ticket_search with the old table.
        op.execute("ALTER TABLE tickets ADD COLUMN owner_user_id INTEGER REFERENCES users (id)")
        op.execute("ALTER TABLE penalties ADD COLUMN proposed_by INTEGER REFERENCES users (id)")
        return
    op.add_column("tickets", sa.Column("owner_user_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_owner_user_id_users"), "tickets", "users", ["owner_user_id"], ["id"]
    )
    op.add_column("penalties", sa.Column("proposed_by", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_penalties_proposed_by_users"), "penalties", "users", ["proposed_by"], ["id"]
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot drop a column that references another table: copy the tables, and
        # put back the triggers the copy drops (0009_ticket_search).
        triggers = [
            row[0]
            for row in bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('tickets', 'penalties')"
            )
        ]
        with op.batch_alter_table("penalties", recreate="always") as batch_op:
            batch_op.drop_column("proposed_by")
        with op.batch_alter_table("tickets", recreate="always") as batch_op:
            batch_op.drop_column("owner_user_id")
        for sql in triggers:
            op.execute(sql)
        return
    op.drop_constraint(op.f("fk_penalties_proposed_by_users"), "penalties", type_="foreignkey")
    op.drop_column("penalties", "proposed_by")
    op.drop_constraint(op.f("fk_tickets_owner_user_id_users"), "tickets", type_="foreignkey")
    op.drop_column("tickets", "owner_user_id")

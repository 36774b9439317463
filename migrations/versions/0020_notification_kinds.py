"""notifications as a kind with parameters; each user's language for e-mail and SMS

Revision ID: 0020_notification_kinds
Revises: 0016_report_covering

Issue 19 item 3: a staff notification is stored as its kind and parameters (codes, ids,
instants — no sentence in any language) and written in the reader's language when it is
read (the in-app list) or sent (e-mail, SMS; :mod:`core.notify.kinds`).

- ``notifications.params`` and ``outbound_messages.params`` (JSON, NULL for rows written
  before: their stored English sentence is read back into parameters where its shape is
  known, and shown as stored otherwise — no rewrite of old rows here);
- ``notification_preferences.language``: the language a user's e-mail and SMS are written
  in (``zh_CN`` by default, or ``en``).

The tables keep their tenant policies (row-level security is per table, not per column).
"""

from alembic import op
import sqlalchemy as sa


revision = "0020_notification_kinds"
down_revision = "0019_seed_duties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as b:
        b.add_column(sa.Column("params", sa.JSON(), nullable=True))
    with op.batch_alter_table("outbound_messages") as b:
        b.add_column(sa.Column("params", sa.JSON(), nullable=True))
    with op.batch_alter_table("notification_preferences") as b:
        b.add_column(sa.Column("language", sa.String(length=8), nullable=False,
                               server_default="zh_CN"))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("notification_preferences") as b:
        b.drop_column("language")
    with op.batch_alter_table("outbound_messages") as b:
        b.drop_column("params")
    with op.batch_alter_table("notifications") as b:
        b.drop_column("params")

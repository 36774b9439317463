"""ticket prefixes are unique across tenants (issue 9 item 5)

Revision ID: 0006_dbguard_prefix
Revises: 0005
"""

from alembic import op


revision = '0006_dbguard_prefix'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_tenants_ticket_prefix', ['ticket_prefix'])


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tenants_ticket_prefix', type_='unique')

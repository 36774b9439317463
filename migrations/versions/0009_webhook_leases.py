"""webhook delivery leases, retry schedule and reaper bookkeeping

Revision ID: 0009_webhook_leases
Revises: 0008_time_clock_inputs
Create Date: 2026-11-30 10:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_webhook_leases'
down_revision = '0008_time_clock_inputs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=False, server_default=''))
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.alter_column('lease_token', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_due')
        batch_op.drop_column('lease_token')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('next_attempt_at')

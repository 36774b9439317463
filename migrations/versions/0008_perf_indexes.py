"""indexes led by tenant_id for the hot paths, repeat complaints and the sweep

Revision ID: 0008_perf_indexes
Revises: 0009_webhook_leases
Create Date: 2026-11-30 10:40:00
"""

from alembic import op


revision = '0008_perf_indexes'
down_revision = "0009_webhook_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_tenant_id_desc', ['tenant_id', 'id'], unique=False)
        batch_op.create_index('ix_tickets_tenant_contact', ['tenant_id', 'complainant_contact', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_tenant_subject', ['tenant_id', 'category', 'accused_department_id', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('step_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_step_clocks_tenant_alarm', ['tenant_id', 'alarm_at'], unique=False)
        batch_op.create_index('ix_step_clocks_tenant_ticket', ['tenant_id', 'ticket_id', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('step_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_step_clocks_tenant_ticket')
        batch_op.drop_index('ix_step_clocks_tenant_alarm')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_tenant_subject')
        batch_op.drop_index('ix_tickets_tenant_contact')
        batch_op.drop_index('ix_tickets_tenant_id_desc')

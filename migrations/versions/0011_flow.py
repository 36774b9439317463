"""tickets: communicative kind and per-ticket limit (issue 12 §1, §4)

Revision ID: 0011_flow
Revises: 0010_attachments
Create Date: 2026-11-30 13:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011_flow'
down_revision = '0010_attachments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('communicative', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('resolve_by', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('resolve_by')
        batch_op.drop_column('communicative')

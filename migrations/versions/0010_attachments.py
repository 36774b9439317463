"""ticket attachments: metadata of evidence files (the bytes live in the object store)

Revision ID: 0010_attachments
Revises: 0009_ticket_search
Create Date: 2026-11-30 14:00:00

Append-only like the history: the app role gets no UPDATE/DELETE (core/db_security.py
INSERT_ONLY); and a trigger refuses them to every role, as for ticket_events.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010_attachments'
down_revision = '0009_ticket_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ticket_attachments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_ticket_attachments_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments'))
    )
    with op.batch_alter_table('ticket_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_attachments_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_ticket_attachments_tenant_ticket', ['tenant_id', 'ticket_id', 'id'], unique=False)
    # Evidence is append-only, as the history is (migration 0001's tousu_append_only).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER ticket_attachments_append_only BEFORE UPDATE OR DELETE "
            "ON ticket_attachments FOR EACH ROW EXECUTE FUNCTION tousu_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ticket_attachments_no_{verb.lower()} BEFORE {verb} ON ticket_attachments "
                "BEGIN SELECT RAISE(ABORT, 'ticket_attachments is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ticket_attachments_append_only ON ticket_attachments")
    else:
        op.execute("DROP TRIGGER IF EXISTS ticket_attachments_no_update")
        op.execute("DROP TRIGGER IF EXISTS ticket_attachments_no_delete")
    with op.batch_alter_table('ticket_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_attachments_tenant_ticket')
        batch_op.drop_index(batch_op.f('ix_ticket_attachments_tenant_id'))
    op.drop_table('ticket_attachments')

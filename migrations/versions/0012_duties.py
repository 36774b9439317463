"""separation of duties: a ticket's named owner, a penalty's proposer

Revision ID: 0012_duties
Revises: 0009_ticket_search
Create Date: 2026-11-30 14:00:00

``tickets.owner_user_id``: the named person who follows a registered ticket until it is
closed ("一经立项,有关人员就有责任跟进、催办,直到销项" [000 §篇1 5(5)1②c]).
``penalties.proposed_by``: whoever graded (or found the falsified reply) that led to the
proposal, who may not decide it (separation of duties).
"""

from alembic import op
import sqlalchemy as sa


revision = '0012_duties'
down_revision = '0009_ticket_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_tickets_owner_user_id_users'), 'users', ['owner_user_id'], ['id']
        )
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_penalties_proposed_by_users'), 'users', ['proposed_by'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_penalties_proposed_by_users'), type_='foreignkey')
        batch_op.drop_column('proposed_by')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_owner_user_id_users'), type_='foreignkey')
        batch_op.drop_column('owner_user_id')

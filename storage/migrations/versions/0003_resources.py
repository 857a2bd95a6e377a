"""resources: requests, their transitions, the inventory (resource_stock)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:18:21.102667
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('requester', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('allocated_amount', sa.BigInteger(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('needed_by', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.create_index('ix_resource_request_team_requester', ['team_id', 'requester'], unique=False)
        batch_op.create_index('ix_resource_request_team_state', ['team_id', 'state'], unique=False)

    op.create_table('resource_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('available', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('needed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('available >= 0', name='ck_resource_stock_available'),
    sa.CheckConstraint('needed >= 0', name='ck_resource_stock_needed'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'type', name='uq_resource_stock_team_type')
    )
    op.create_table('resource_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('resource_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_transition_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('resource_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_transition_request_id'))

    op.drop_table('resource_transition')
    op.drop_table('resource_stock')
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_request_team_state')
        batch_op.drop_index('ix_resource_request_team_requester')

    op.drop_table('resource_request')

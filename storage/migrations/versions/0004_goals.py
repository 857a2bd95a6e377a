"""goals, goal revisions, meetings, KPI covering index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:21:06.488087
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('local_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', name='uq_meeting_team')
    )
    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('recurring', sa.Boolean(), nullable=False),
    sa.Column('period_start', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('period_end', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('relative_pct', sa.Float(), nullable=True),
    sa.Column('base_value', sa.Float(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index('ix_goal_team_metric_kind', ['team_id', 'metric_id', 'kind'], unique=False)

    op.create_table('goal_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('old_target', sa.Float(), nullable=False),
    sa.Column('new_target', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('changed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('goal_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_revision_goal_id'), ['goal_id'], unique=False)

    with op.batch_alter_table('progress_value', schema=None) as batch_op:
        batch_op.create_index('ix_value_kpi_cover', ['team_id', 'metric_id', 'created_at', 'user_id', 'value'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('progress_value', schema=None) as batch_op:
        batch_op.drop_index('ix_value_kpi_cover')

    with op.batch_alter_table('goal_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_revision_goal_id'))

    op.drop_table('goal_revision')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index('ix_goal_team_metric_kind')

    op.drop_table('goal')
    op.drop_table('meeting')

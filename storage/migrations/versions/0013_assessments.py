"""assessments: KPI weights on metrics, and confirmed assessments (考核) with their sheet snapshot

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): a batch copy of `metric` would cascade-delete every progress
    # value that references it when the old table is dropped.
    op.add_column("metric", sa.Column("weight", sa.Float(), nullable=True))
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("computed", sa.Float(), nullable=True),
        sa.Column("override", sa.Float(), nullable=True),
        sa.Column("band", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("sheet", sa.Text(), server_default="", nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("confirmed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("response", sa.Text(), server_default="", nullable=False),
        sa.Column("responded_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id", "period", name="uq_assessment_member_period"),
    )


def downgrade() -> None:
    op.drop_table("assessment")
    op.drop_column("metric", "weight")  # SQLite 3.35+ drops a column in place

"""activities and returns: marketing's campaigns (活动) with their results, and what a resource
allocation brought (投入产出比)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=True),
        sa.Column("participants", sa.BigInteger(), nullable=True),
        sa.Column("leads", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("result_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_team_day", ["team_id", "day"], unique=False)
    with op.batch_alter_table("resource_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_sales", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("return_customers", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resource_request", schema=None) as batch_op:
        batch_op.drop_column("return_customers")
        batch_op.drop_column("return_sales")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_team_day")
    op.drop_table("activity")

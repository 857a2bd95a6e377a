"""customers: the shared customer database, its stage history, follow-ups, and the pool rules per team

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TEAM_SETTINGS = (
    ("pool_days", sa.Integer(), "30"),
    ("warn_days", sa.Integer(), "3"),
    ("reclaim_days", sa.Integer(), "7"),
    ("claim_cap", sa.Integer(), "50"),
    ("quality_stage", sa.String(length=12), "qualified"),
    ("stuck_days", sa.Integer(), "14"),
)


def _s(n: int):
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def _ts():
    return storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    for name, type_, default in _TEAM_SETTINGS:
        op.add_column("team", sa.Column(name, type_, server_default=default, nullable=False))

    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", _s(120), nullable=False),
        sa.Column("name_key", _s(120), nullable=False),
        sa.Column("phone", _s(40), nullable=True),
        sa.Column("phone_key", _s(40), nullable=True),
        sa.Column("contact", _s(80), nullable=False),
        sa.Column("source", _s(80), nullable=False),
        sa.Column("stage", _s(12), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("lost_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("owner_id", _s(64), nullable=True),
        sa.Column("last_owner_id", _s(64), nullable=True),
        sa.Column("released_at", _ts(), nullable=True),
        sa.Column("release_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", _s(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("stage_changed_at", _ts(), nullable=False),
        sa.Column("last_followup_at", _ts(), nullable=True),
        sa.Column("active_at", _ts(), nullable=False),
        sa.Column("pool_warned_at", _ts(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name_key", name="uq_customer_team_name"),
        sa.UniqueConstraint("team_id", "phone_key", name="uq_customer_team_phone"),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_team_owner_stage", ["team_id", "owner_id", "stage"], unique=False)
        batch_op.create_index("ix_customer_team_active", ["team_id", "active_at"], unique=False)

    op.create_table(
        "customer_stage_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", _s(12), nullable=True),
        sa.Column("to_stage", _s(12), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("owner_id", _s(64), nullable=True),
        sa.Column("by", _s(64), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_stage_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_stage_change_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_stage_change_team_at", ["team_id", "at", "to_stage", "owner_id"], unique=False)

    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("by", _s(64), nullable=False),
        sa.Column("how", _s(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.Column("next_state", _s(10), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entry_id"], ["progress_entry.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.create_index("ix_followup_customer_at", ["customer_id", "at"], unique=False)
        batch_op.create_index("ix_followup_team_at", ["team_id", "at", "by"], unique=False)
        batch_op.create_index("ix_followup_next", ["next_state", "next_on"], unique=False)


def downgrade() -> None:
    op.drop_table("followup")
    op.drop_table("customer_stage_change")
    op.drop_table("customer")
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): a batch copy of `team` would drop the table,
    # and with it, through ON DELETE CASCADE, every row that belongs to a team.
    for name, _type, _default in reversed(_TEAM_SETTINGS):
        op.drop_column("team", name)

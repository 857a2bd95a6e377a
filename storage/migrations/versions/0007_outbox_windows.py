"""outbox windows and steps: the moment a message belongs to, when it goes stale, and what a
multi-step send has done

`due_at` and `expires_at` let a message that missed its window be kept as `expired` instead of
being sent late with stale text; `steps` records each step of a multi-step send (the text, then a
chart upload) as it is done, so that a restart never posts the text again.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("steps", sa.Text(), nullable=True))


def downgrade() -> None:
    # Expired messages were never sent; before this revision the nearest state is dead.
    op.execute("UPDATE outbox_message SET status = 'dead' WHERE status = 'expired'")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("steps")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("due_at")

"""lean write path: fewer indexes for a /progress to write

Every b-tree page a command's insert touches is one more page in its commit (bench/run.py):
a /progress with two values wrote about 13 pages, now about 7. Dropped: progress_entry.user_id
(a person's entries are looked up within a team and a time range), inbound_receipt.received_at
(nothing reads it) and progress_value's (team, metric, time) and (team, user, metric, time)
indexes. The covering index becomes (team, time, metric, user, value): a command's values sit
next to each other at its end, one page, where with the metric first each value went to its own
part of the index; every KPI query is still an index-only scan of the team's period.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COVER = ["team_id", "created_at", "metric_id", "user_id", "value"]


def upgrade() -> None:
    with op.batch_alter_table("progress_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_entry_user_id")
    with op.batch_alter_table("inbound_receipt", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_receipt_received_at")
    with op.batch_alter_table("progress_value", schema=None) as batch_op:
        batch_op.create_index("ix_value_team_time_cover", COVER, unique=False)
        batch_op.drop_index("ix_value_kpi_cover")
        batch_op.drop_index("ix_value_team_metric_time")
        batch_op.drop_index("ix_value_team_user_metric_time")


def downgrade() -> None:
    with op.batch_alter_table("progress_value", schema=None) as batch_op:
        batch_op.create_index("ix_value_team_user_metric_time", ["team_id", "user_id", "metric_id", "created_at"],
                              unique=False)
        batch_op.create_index("ix_value_team_metric_time", ["team_id", "metric_id", "created_at"], unique=False)
        batch_op.create_index("ix_value_kpi_cover", ["team_id", "metric_id", "created_at", "user_id", "value"],
                              unique=False)
        batch_op.drop_index("ix_value_team_time_cover")
    with op.batch_alter_table("inbound_receipt", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_receipt_received_at", ["received_at"], unique=False)
    with op.batch_alter_table("progress_entry", schema=None) as batch_op:
        batch_op.create_index("ix_progress_entry_user_id", ["user_id"], unique=False)

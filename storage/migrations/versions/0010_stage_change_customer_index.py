"""the funnel's index: customer_stage_change (team_id, customer_id, to_stage)

How far each customer got in the funnel is a GROUP BY customer over the team's history; with this
index it is read in customer order without a sort (20,000 customers: ~5x faster on SQLite).

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_stage_change_team_customer", "customer_stage_change", ["team_id", "customer_id", "to_stage"])


def downgrade() -> None:
    op.drop_index("ix_stage_change_team_customer", table_name="customer_stage_change")

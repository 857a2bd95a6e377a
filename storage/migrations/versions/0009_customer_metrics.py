"""customer metrics: qualified 高质量客户, followups 跟进次数, won 赢单, won_amount 赢单金额 for every team

Computed from the customer records (storage/customer_queries.py), not typed; new teams get them
from the seed, existing teams here (a team that already has a metric with one of these codes keeps it).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

METRICS = (
    ("qualified", "高质量客户", "Qualified customers", "count", "sum", "高质量,优质客户,qualified_customers"),
    ("followups", "跟进次数", "Follow-ups", "count", "sum", "跟进,followup,follow-ups,跟进数"),
    ("won", "赢单", "Deals won", "count", "sum", "赢单数,成交,成交数,wins,deals"),
    ("won_amount", "赢单金额", "Won amount", "CNY", "sum", "成交金额,签约金额,won amount,deal_amount"),
)


def upgrade() -> None:
    conn = op.get_bind()
    teams = [r[0] for r in conn.execute(sa.text("SELECT id FROM team ORDER BY id"))]
    for team_id in teams:
        have = {r[0] for r in conn.execute(sa.text("SELECT code FROM metric WHERE team_id = :t"), {"t": team_id})}
        for code, zh, en, unit, agg, aliases in METRICS:
            if code in have:
                continue
            conn.execute(sa.text("INSERT INTO metric (team_id, code, name_zh, name_en, unit, aggregation, aliases) "
                                 "VALUES (:t, :c, :zh, :en, :u, :a, :al)"),
                         {"t": team_id, "c": code, "zh": zh, "en": en, "u": unit, "a": agg, "al": aliases})


def downgrade() -> None:
    conn = op.get_bind()
    for code, *_ in METRICS:
        conn.execute(sa.text("DELETE FROM metric WHERE code = :c AND id NOT IN "
                             "(SELECT metric_id FROM progress_value WHERE metric_id IS NOT NULL) "
                             "AND id NOT IN (SELECT metric_id FROM goal)"), {"c": code})

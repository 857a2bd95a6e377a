"""/kpi (绩效): actual vs target vs previous period vs last year, and the pace still needed.

Grammar:

    [@user | name | me | team] [period]    default: the team; the periods of its current goals (a Q4
                                           goal in December: 2026-Q4), else this month
        period: week/month/quarter/year (周/月/季度/年: the current one), this month, 上月, 本季度,
                2026-Q4, 2026-11, 2026, 2026-W48 ... (commands/core/parsing: parse_period)
    chart [period]                         图表: the sales leaderboard and its chart, on demand
    metric add <code> <zh name> <en name> <unit> <sum|average|last> [alias,alias...]   manager only
        指标 添加 visits_new 新拜访 New visits count sum 新访,首访
    metric list                            指标 列表

Per metric: actual; target (the scope's goal for exactly that period, else its recurring goal);
attainment %; the previous period and the change (环比); the same period last year and the change
(同比); for a percentage metric the changes are in percentage points. A period in progress is
compared like for like: its working days so far against the same number of working days at the
start of the previous period and of the same period last year, with a forecast at the current
pace (commands/kpi/rows.py). For summed metrics with a target: what is still to go and the working
days left ("还差 2 个，剩 15 个工作日"; today counts when it is a working day of the team's calendar).
Every number comes from storage/queries.py (SQL aggregation).
"""
from __future__ import annotations

from commands.kpi.board import board_parts, chart, chart_dir, leaderboard
from commands.kpi.parse import (
    AGGREGATION_WORDS,
    CURRENT,
    KEYWORDS,
    SCOPES,
    SELF_WORDS,
    TEAM_WORDS,
    UNIT_WORDS,
    AddMetric,
    ListMetrics,
    ShowKpi,
    parse,
)
from commands.kpi.rows import KpiRow, change, kpi_rows, kpi_table, members, primary_metric, remaining_workdays
from commands.kpi.run import run

__all__ = [
    "AGGREGATION_WORDS",
    "CURRENT",
    "KEYWORDS",
    "SCOPES",
    "SELF_WORDS",
    "TEAM_WORDS",
    "UNIT_WORDS",
    "AddMetric",
    "KpiRow",
    "ListMetrics",
    "ShowKpi",
    "board_parts",
    "change",
    "chart",
    "chart_dir",
    "kpi_rows",
    "kpi_table",
    "leaderboard",
    "members",
    "parse",
    "primary_metric",
    "remaining_workdays",
    "run",
]

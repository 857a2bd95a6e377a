"""/activity (活动): marketing's campaigns, with their date, budget, participants and leads.

Grammar (keywords are case-insensitive; Chinese keywords need no space after them):

    add <name> <date> [budget=<n>]                 新建 华南展会 12月20日 预算=5万
        date: 2026-12-20, 12月20日, Dec 20, 明天, 下周五, 昨天 (a past day records one that happened)
        budget keys: budget, 预算, 费用, 经费 (CNY)
    result <id> participants=<n> [leads=<n>]       结果 3 参与人数=120 线索=15
        participant keys: participants, attendees, 参与人数, 参与, 人数, 到场人数; leads: leads, 线索, 留资
        recorded again, it corrects the earlier result
    list                                           列表

add and result: marketing (市场部) or the sales manager; list: anyone in the team. A bare /activity
opens the form of `add` (form.py).

The KPI 活动参与人数 compares each activity with the team's previous one that has a result (the seed:
以上次活动参与人数为基准), not with the previous month: the target is the previous activity's
participants raised by the team's relative goal on 活动参与人数 (`/goal set event_participants +20% ...`),
else by the seed's 20%. Activities appear in the agenda's 经验分享 and in the monthly summary.
"""
from __future__ import annotations

from commands.activities.form import FORM
from commands.activities.parse import (
    EXAMPLE,
    KEYWORDS,
    AddActivity,
    ListActivities,
    RecordResult,
    ShowHelp,
    parse,
)
from commands.activities.run import (
    METRIC,
    SEED_PCT,
    ActivityRow,
    activities_between,
    compare,
    last_result,
    latest_result,
    result_line,
    rows_table,
    run,
)

__all__ = [
    "ActivityRow", "activities_between", "FORM", "last_result", "latest_result", "METRIC", "AddActivity", "compare", "EXAMPLE", "KEYWORDS", "ListActivities",
    "parse", "RecordResult", "result_line", "rows_table", "run", "SEED_PCT", "ShowHelp",
]

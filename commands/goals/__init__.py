"""/goal (目标): SMART goals for a member or the team -- set, list, review, adjust, history.

Grammar (keywords case-insensitive; Chinese aliases after the slash):

    set/设定 <metric> <target> <period> [for @user | for team]     为 @李雷 / 为团队
        target:  1.2m, 50万, 90%          absolute
                 +20%, -10%               relative to the previous period's actual (fixed at set time)
        period:  2026-Q4, 2026-11, 本季度, next month, 2026 ...   one calendar period
                 weekly/monthly/quarterly/yearly, 每周/每月/每季度/每年   every such period (recurring)
                 by 2026-12-31, 截止 12月31日, 12月31日前          a deadline (from today to that day)
        order is free: "sales 2026-Q4 1.2m" works too.
    list/列表                                      the team's current and future goals
    review/回顾                                    actual vs target, pace and forecast of each current goal
    adjust/调整 <id> <target> because/因为 <reason>  a new target; the old one and the reason are kept
    history/历史 <id>                               a goal and every revision of it

SMART check (set): S/R -- a metric the team tracks; M -- a number; T -- a period or a deadline. A goal
missing any of them is refused, naming the letters and what to add. A: a target more than
ACHIEVABLE_FACTOR x the best of the last LOOKBACK periods is saved with a warning.

Permissions: anyone sets their own goals; a manager sets team goals and goals for others. The
goal's owner or a manager adjusts it (team goals: a manager).
"""
from __future__ import annotations

from commands.goals.attainment import Progress, attainment, pct, progress_of, upto
from commands.goals.form import FORM
from commands.goals.monthly import ended_goals, month_review, nice, shift_year, suggestion
from commands.goals.parse import (
    ACHIEVABLE_FACTOR,
    CALENDAR_KINDS,
    DEADLINE_WORDS,
    FOR_WORDS,
    KEYWORDS,
    LOOKBACK,
    MAX_ID,
    MAX_REASON,
    REASON_WORDS,
    RECURRING,
    TEAM_WORDS,
    AdjustGoal,
    GoalHistory,
    ListGoals,
    ReviewGoals,
    SetGoal,
    parse,
)
from commands.goals.run import current_goals, review, review_header, review_rows, run, smart_check
from commands.goals.windows import (
    Window,
    label,
    previous_windows,
    targets_for,
    user_targets,
    window,
)

__all__ = [
    "FORM",
    "ACHIEVABLE_FACTOR", "AdjustGoal", "attainment", "CALENDAR_KINDS", "current_goals",
    "DEADLINE_WORDS", "ended_goals", "FOR_WORDS", "GoalHistory", "KEYWORDS", "label", "ListGoals",
    "LOOKBACK", "MAX_ID", "MAX_REASON", "month_review", "nice", "parse", "pct", "previous_windows",
    "Progress", "progress_of", "REASON_WORDS", "RECURRING", "review", "review_header", "review_rows",
    "ReviewGoals", "run", "SetGoal", "shift_year", "smart_check", "suggestion",
    "targets_for", "TEAM_WORDS", "upto", "user_targets", "Window", "window"
]

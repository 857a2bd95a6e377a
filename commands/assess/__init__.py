"""/assess (考核): the assessment sheet, its confirmation by the right role, the member's answer.

Grammar:

    [period] [@user | me | team]          the sheet: per KPI actual, target, attainment, weight, weighted
                                          score; the total and its band (A >= 90, B >= 75, C >= 60, else D).
                                          Default: this month; a manager or performance admin without
                                          @user sees the team overview (each member's score and state).
        period: 2026-11, 11月, 上月, last month, 2026Q4, Q3, 上季度, 2026, 去年 ...
    confirm <period> @user [score=<n>] [comment]
                                          确认: monthly by the manager, quarterly and annual by the
                                          performance admin (seed: 每月初 销售经理; 季度末、年度末 绩效管理部).
                                          Stored with the sheet as computed then; the member gets a DM.
                                          Bare `confirm`: a form.
    ack [period]                          认可: the member accepts (default: their latest)
    object [period] <reason>              异议: the member objects; the reason goes to whoever confirmed

Weights: `/kpi weights` (commands/kpi/weights.py). The scheduled "assessment due" DMs:
reminders/assess_jobs.py. The CSV: `/teambot export assessments <period>` (commands/export.py).
"""
from __future__ import annotations

from commands.assess.parse import (
    KEYWORDS,
    SCOPES,
    Acknowledge,
    ConfirmAssessment,
    Object,
    OpenConfirmForm,
    ShowSheet,
    parse,
)
from commands.assess.run import (
    CONFIRMER,
    READERS,
    assessed_members,
    final_score,
    find,
    overview,
    run,
    sheet_reply,
    status_name,
)
from commands.assess.form import FORM
from commands.assess.sheet import Sheet, band, band_label, compute

__all__ = [
    "CONFIRMER", "FORM", "KEYWORDS", "READERS", "SCOPES", "Acknowledge", "ConfirmAssessment", "Object", "OpenConfirmForm", "Sheet",
    "ShowSheet", "assessed_members", "band", "band_label", "compute", "final_score", "find", "overview", "parse",
    "run", "sheet_reply", "status_name",
]

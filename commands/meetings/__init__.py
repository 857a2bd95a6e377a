"""The guide's other meetings (会议类型: 周例会、月度总结会、项目启动会), and the quarterly goal review.

- monthly.py: the monthly review (月度总结会): last month's KPIs, the assessments (or, until they exist,
  each member's attainment), honours, goal adjustments, the month's activities and resource returns.
- kickoff.py: a project kick-off (项目启动会): the goal, the plan as tasks with owners and dates, the
  resources to request.
- quarterly.py: the scheduled quarterly goal review: last quarter's goals met or missed, and suggested
  adjustments to the annual goals.

/agenda (commands/agenda.py) parses `monthly` and `kickoff <project>` and calls these; every agenda
keeps the guide's rule that a meeting stays within an hour (会议时间控制在1小时以内): its time boxes add
up to the meeting length, which is at most 60 minutes.
"""
from __future__ import annotations

from commands.meetings.kickoff import kickoff_agenda
from commands.meetings.monthly import monthly_agenda
from commands.meetings.quarterly import quarter_review

__all__ = ["kickoff_agenda", "monthly_agenda", "quarter_review"]

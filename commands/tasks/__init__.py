"""/task (任务): action plans as tasks with an owner, a due date and a note.

Grammar (keywords are case-insensitive; Chinese keywords need no space after them):

    add @user <title> due <date> [note <text>]      新建 @李雷 拜访客户 截止 下周五 备注 带上报价单
        due separators: due, due:, by, deadline, 截止, 截止到, 截至; note separators: note, note:, 备注
        no mention, @me, @我: the caller
    list [mine|@user|team|overdue]                    列表 [我的|@某人|团队|逾期]  (default: mine)
    done <id>                                         完成 <id>
    reopen <id>                                       重开 <id>
    due <id> <date>                                   改期 <id> <date>   (also 截止, 延期)
    assign <id> @user                                 转给 <id> @某人    (also 指派)
    cancel <id>                                       取消 <id>
    snooze <id>                                       推迟 <id>           (also 稍后): reminders wait one day

Permission rules (checked on the server for typed commands and button clicks alike):

    | action | assignee | creator | manager | any other member |
    |--------|----------|---------|---------|------------------|
    | add    | -        | -       | for anyone in the team | for themselves only |
    | list   | yes      | yes     | yes     | yes              |
    | done   | yes      | no      | yes     | no               |
    | snooze | yes      | no      | yes     | no               |
    | reopen | no       | yes     | yes     | no               |
    | due    | yes      | yes     | yes     | no               |
    | assign | no       | yes, to themselves only | yes, to anyone in the team | no |
    | cancel | no       | yes     | yes     | no               |

A person who holds several of these positions has the union of their rights. The assignee must be a
member of the team. A task id of another team answers "not found", exactly like an id that does not
exist, so ids never leak across teams.
"""
from __future__ import annotations

from commands.tasks.form import FORM
from commands.tasks.parse import (
    KEYWORDS,
    LIST_LIMIT,
    MAX_ID,
    MAX_NOTE,
    MAX_TITLE,
    SCOPES,
    SELF_NAMES,
    SNOOZE,
    AddTask,
    AssignTask,
    CancelTask,
    CompleteTask,
    ListTasks,
    ReopenTask,
    RescheduleTask,
    SnoozeTask,
    parse,
)
from commands.tasks.rules import ASSIGNEE, CREATOR, MANAGER, RULES, allowed, may_assign_to, positions
from commands.tasks.run import run

__all__ = [
    "FORM",
    "AddTask", "allowed", "ASSIGNEE", "AssignTask", "CancelTask", "CompleteTask", "CREATOR", "KEYWORDS",
    "LIST_LIMIT", "ListTasks", "MANAGER", "MAX_ID", "MAX_NOTE", "MAX_TITLE", "may_assign_to", "parse",
    "positions", "ReopenTask", "RescheduleTask", "RULES", "run", "SCOPES", "SELF_NAMES", "SNOOZE",
    "SnoozeTask"
]

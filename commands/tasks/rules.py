"""The permission table of the package docstring, as data: who may take which step on a task."""
from __future__ import annotations

from storage.models import Task

ASSIGNEE, CREATOR, MANAGER = "assignee", "creator", "manager"
RULES: dict[str, frozenset[str]] = {
    "done": frozenset({ASSIGNEE, MANAGER}),
    "snooze": frozenset({ASSIGNEE, MANAGER}),
    "reopen": frozenset({CREATOR, MANAGER}),
    "due": frozenset({CREATOR, ASSIGNEE, MANAGER}),
    "assign": frozenset({CREATOR, MANAGER}),
    "cancel": frozenset({CREATOR, MANAGER}),
}


def positions(task: Task, user_id: str, is_manager: bool) -> frozenset[str]:
    """What the person is to this task: assignee, creator, manager (any number of them)."""
    out = set()
    if task.assignee == user_id:
        out.add(ASSIGNEE)
    if task.created_by == user_id:
        out.add(CREATOR)
    if is_manager:
        out.add(MANAGER)
    return frozenset(out)


def allowed(action: str, task: Task, user_id: str, is_manager: bool) -> bool:
    return bool(RULES[action] & positions(task, user_id, is_manager))


def may_assign_to(target: str, user_id: str, is_manager: bool) -> bool:
    """A manager assigns to anyone in the team; everyone else only to themselves."""
    return is_manager or target == user_id

"""The /task form: owner, title, due date and time, note -> `/task add <@U2> <title> due <date> [note ...]`."""
from __future__ import annotations

from datetime import timedelta

from commands.core.context import Ctx
from commands.core.form_values import flat, required, who
from commands.core.forms import DATE_ERRORS, FeatureForm, labelled
from commands.tasks.parse import MAX_NOTE, MAX_TITLE


def fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    tomorrow = (ctx.local_now + timedelta(days=1)).date().isoformat()
    return (
        labelled(lang, "tasks", "assignee", "user", initial=ctx.actor.user_id),
        labelled(lang, "tasks", "title", "text", max_length=MAX_TITLE),
        labelled(lang, "tasks", "due_date", "date", initial=tomorrow),
        labelled(lang, "tasks", "due_time", "time", required=False, initial="18:00"),
        labelled(lang, "tasks", "note", "multiline", required=False, max_length=MAX_NOTE),
    )


def compose(v: dict[str, str]) -> str:
    title = flat(required(v, "title"))
    due = " ".join(x for x in (required(v, "due_date"), v.get("due_time", "")) if x)
    text = " ".join(x for x in ("/task add", who(v.get("assignee", "")), title, "due", due) if x)
    if v.get("note"):
        text += " note " + v["note"]
    return text


ERRORS = {
    **dict.fromkeys(DATE_ERRORS + ("tasks.due_required",), "due_date"),
    **dict.fromkeys(("tasks.title_required", "tasks.title_too_long"), "title"),
    "tasks.note_too_long": "note",
    **dict.fromkeys(("tasks.assignee_not_member", "tasks.assign_others_refused", "tasks.one_assignee",
                     "core.unknown_person"), "assignee"),
}

FORM = FeatureForm("tasks", fields, compose, ERRORS, primary=True)

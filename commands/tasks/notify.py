"""What the assignee (or the creator) hears about a task, and the buttons they get."""
from __future__ import annotations

from sqlalchemy import select

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.people import mention, recipient_prefs
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Text
from commands.i18n import t
from storage.models import OutboxMessage, Task


def _details(task: Task, tz, lang: str) -> Fields:
    pairs = [(t(lang, "tasks.label_assignee"), mention(task.assignee)),
             (t(lang, "tasks.label_due"), fmt.when(task.due_at, tz, lang))]
    if task.note:
        pairs.append((t(lang, "tasks.label_note"), task.note))
    return Fields(tuple(pairs))


def _buttons(task: Task, lang: str) -> Actions:
    return Actions((
        Button(label=t(lang, "tasks.button_done"), action_id="task.done", value=str(task.id),
               command=f"/task done {task.id}", style="primary"),
        Button(label=t(lang, "tasks.button_snooze"), action_id="task.snooze", value=str(task.id),
               command=f"/task snooze {task.id}"),
    ))


def _next_seq(session, ctx: Ctx, prefix: str) -> int:
    """The n of a dedupe key `prefix:n`: one more than any already queued (here or in the outbox)."""
    keys = list(session.scalars(select(OutboxMessage.dedupe_key)
                          .where(OutboxMessage.dedupe_key.like(prefix + ":%"))))
    keys += [m.dedupe_key for m in ctx.outgoing if m.dedupe_key and m.dedupe_key.startswith(prefix + ":")]
    seen = [int(k.rsplit(":", 1)[1]) for k in keys if k.rsplit(":", 1)[1].isdigit()]
    return max(seen, default=0) + 1


def _notify_assigned(session, ctx: Ctx, task: Task) -> None:
    _notify(session, ctx, task, task.assignee, "assigned", "tasks.dm_assigned", by=mention(ctx.actor.user_id),
            buttons=True)


def _notify(session, ctx: Ctx, task: Task, user_id: str, kind: str, key: str, *, buttons: bool = False,
            **args) -> None:
    prefs = recipient_prefs(session, ctx.team, {user_id})
    lang, tz = prefs.lang(user_id), prefs.tz(user_id)
    head = t(lang, key, id=task.id, title=task.title, team=ctx.team.name, **args)
    parts: list = [Text(head), _details(task, tz, lang)]
    if buttons:
        parts.append(_buttons(task, lang))
    prefix = f"task:{task.id}:{kind}"
    ctx.send(Outgoing(destination=f"user:{user_id}",
                      reply=Reply(parts=tuple(parts), private=False, summary=head),
                      dedupe_key=f"{prefix}:{_next_seq(session, ctx, prefix)}"))

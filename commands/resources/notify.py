"""What the approvers and the requester hear about a request, and the buttons they get."""
from __future__ import annotations

from sqlalchemy import select

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.people import mention, recipient_prefs
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Text
from commands.i18n import t
from commands.resources.states import (
    ALLOCATED,
    APPROVED,
    MANAGER,
    NEXT_ACTOR,
    RESOURCE_ADMIN,
    REVIEWED,
    SUBMITTED,
    _positions,
)
from commands.resources.types import amount_text, state_name, what
from storage.models import Member, ResourceRequest


def approvers(session, team_id: int, state: str) -> list[str]:
    """Who acts next on a request waiting in `state` (managers or resource admins), by user id."""
    role = NEXT_ACTOR.get(state)
    if role not in (MANAGER, RESOURCE_ADMIN):
        return []
    return list(session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.role == role)
                                .order_by(Member.user_id)))


_approvers = approvers


def stage_buttons(row: ResourceRequest, lang: str) -> Actions | None:
    """The buttons for whoever acts next. Each runs its typed command as the CLICKING user, so the
    server re-checks the permission (a forwarded Approve clicked by a rep is refused)."""
    rid = row.id
    if row.state == SUBMITTED:
        return Actions((
            Button(t(lang, "resources.button_approve"), "resource.approve", str(rid),
                   command=f"/resource approve {rid}", style="primary"),
            # Needs a reason: in Slack this button should open a form (modal) asking for it.
            Button(t(lang, "resources.button_reject"), "resource.reject", str(rid),
                   command=f"/resource reject {rid} ", style="danger"),
        ))
    if row.state == APPROVED:
        return Actions((
            Button(t(lang, "resources.button_review"), "resource.approve", str(rid),
                   command=f"/resource approve {rid}", style="primary"),
            Button(t(lang, "resources.button_reject"), "resource.reject", str(rid),
                   command=f"/resource reject {rid} ", style="danger"),
        ))
    if row.state == REVIEWED:
        return Actions((Button(t(lang, "resources.button_allocate"), "resource.allocate", str(rid),
                               command=f"/resource allocate {rid}", style="primary"),))
    if row.state == ALLOCATED:
        return Actions((Button(t(lang, "resources.button_feedback"), "resource.feedback", str(rid),
                               command=f"/resource feedback {rid} "),))
    return None


def details(row: ResourceRequest, tz, lang: str) -> Fields:
    pairs = [(t(lang, "resources.label_id"), f"#{row.id}"),
             (t(lang, "resources.label_requester"), mention(row.requester)),
             (t(lang, "resources.label_what"), what(row, lang)),
             (t(lang, "resources.label_purpose"), row.purpose)]
    if row.needed_by is not None:
        pairs.append((t(lang, "resources.label_needed_by"), fmt.when(row.needed_by, tz, lang)))
    if row.allocated_amount is not None:
        pairs.append((t(lang, "resources.label_allocated"), amount_text(row.type, row.allocated_amount, lang)))
    pairs.append((t(lang, "resources.label_state"), state_name(row.state, lang)))
    return Fields(tuple(pairs))


def _dm(session, ctx: Ctx, row: ResourceRequest, user_id: str, key: str, *, buttons: bool = False, **args) -> None:
    prefs = recipient_prefs(session, ctx.team, {user_id})
    lang, tz = prefs.lang(user_id), prefs.tz(user_id)
    args = {k: (v(lang) if callable(v) else v) for k, v in args.items()}
    head = t(lang, key, id=row.id, what=what(row, lang), team=ctx.team.name,
             requester=mention(row.requester), **args)
    parts: list = [Text(head), details(row, tz, lang)]
    actions = stage_buttons(row, lang) if buttons else None
    if actions is not None:
        parts.append(actions)
    ctx.send(Outgoing(destination=f"user:{user_id}",
                      reply=Reply(parts=tuple(parts), private=False, summary=head.split("\n")[0]),
                      dedupe_key=f"resource:{row.id}:{row.state}:{user_id}",
                      meta={"kind": "resource", "request_id": row.id, "state": row.state}))


def _notify_next(session, ctx: Ctx, row: ResourceRequest) -> list[str]:
    """The request, with the buttons for the next step, to each person who takes it (not the actor)."""
    key = {SUBMITTED: "resources.dm_please_approve", APPROVED: "resources.dm_please_review",
           REVIEWED: "resources.dm_please_allocate"}.get(row.state)
    if key is None:
        return []
    out = []
    for user_id in approvers(session, ctx.team_id, row.state):
        if user_id == ctx.actor.user_id:
            continue
        _dm(session, ctx, row, user_id, key, buttons=True, by=mention(ctx.actor.user_id))
        out.append(user_id)
    return out


def _tell_requester(session, ctx: Ctx, row: ResourceRequest, key: str, *, buttons: bool = False, **args) -> bool:
    if row.requester == ctx.actor.user_id:
        return False
    _dm(session, ctx, row, row.requester, key, buttons=buttons, by=mention(ctx.actor.user_id), **args)
    return True


def _note_line(note: str):
    """'\n备注：…' in the recipient's language (_dm calls it with theirs), or ''."""
    if not note:
        return ""
    return lambda lang: t(lang, "resources.note_line", note=note)


def _step_reply(session, ctx: Ctx, row: ResourceRequest, head: str, notified: list[str], notified_key: str) -> Reply:
    """The actor's reply after a step: what happened, who was told, and the next step's buttons
    when the actor is the one to take it."""
    lang = ctx.lang
    parts: list = [Text(head), details(row, ctx.tz, lang)]
    if notified:
        parts.append(Text(t(lang, notified_key, who=" ".join(mention(u) for u in notified))))
    next_role = NEXT_ACTOR.get(row.state)
    mine = next_role is not None and next_role in _positions(row, ctx)
    if mine:
        actions = stage_buttons(row, lang)
        if actions is not None:
            parts.append(actions)
    elif not notified and next_role in (MANAGER, RESOURCE_ADMIN):
        parts.append(Text(t(lang, f"resources.nobody_{next_role}")))
    return Reply(parts=tuple(parts), summary=head.split("\n")[0])

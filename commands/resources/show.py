"""Reading requests: the list, and one request with its history."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.people import mention
from commands.core.reply import Reply, Table, Text
from commands.i18n import t
from commands.resources.notify import details, stage_buttons
from commands.resources.parse import ListRequests
from commands.resources.returns import request_return
from commands.resources.states import ALLOCATED, MANAGER, NEXT_ACTOR, RESOURCE_ADMIN, _positions, _role
from commands.resources.types import LIST_LIMIT, amount_text, state_name, type_name, what
from storage.models import ResourceRequest, ResourceTransition


def _list(session, req: ListRequests, ctx: Ctx) -> Reply:
    lang, me, role = ctx.lang, ctx.actor.user_id, _role(ctx)
    scope = req.scope
    if scope == "auto":
        scope = "pending" if role in (MANAGER, RESOURCE_ADMIN) else "mine"
    q = select(ResourceRequest).where(ResourceRequest.team_id == ctx.team_id)
    if scope == "pending":
        mine_to_do = [st for st, who in NEXT_ACTOR.items() if who == role]
        q = q.where(or_(ResourceRequest.state.in_(mine_to_do),
                        (ResourceRequest.requester == me) & (ResourceRequest.state == ALLOCATED)))
        order = (ResourceRequest.updated_at, ResourceRequest.id)
    elif scope == "mine":
        q = q.where(ResourceRequest.requester == me)
        order = (ResourceRequest.id.desc(),)
    else:
        order = (ResourceRequest.id.desc(),)
    label = t(lang, f"resources.scope_{scope}", team=ctx.team.name)
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    if not total:
        return Reply.text(t(lang, "resources.list_empty", scope=label))
    rows = list(session.scalars(q.order_by(*order).limit(LIST_LIMIT)))
    table = tuple((f"#{r.id}", type_name(r.type, lang), amount_text(r.type, r.amount, lang), mention(r.requester),
                   _clip(r.purpose, 40), state_name(r.state, lang),
                   fmt.day(r.needed_by.astimezone(ctx.tz).date(), lang) if r.needed_by else "—") for r in rows)
    header = tuple(t(lang, f"resources.col_{c}") for c in ("id", "type", "amount", "requester", "purpose",
                                                           "state", "needed_by"))
    title = t(lang, "resources.list_title", scope=label, count=total)
    parts: list = [Text(title), Table(header, table)]
    if total > LIST_LIMIT:
        parts.append(Text(t(lang, "resources.list_more", n=total - LIST_LIMIT)))
    return Reply(parts=tuple(parts), summary=title.replace("*", ""))


def history(session, request_id: int) -> list[ResourceTransition]:
    return list(session.scalars(select(ResourceTransition).where(ResourceTransition.request_id == request_id)
                          .order_by(ResourceTransition.at, ResourceTransition.id)))


def _show(session, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    head = t(lang, "resources.show_title", id=row.id, what=what(row, lang), state=state_name(row.state, lang))
    parts: list = [Text(head), details(row, tz, lang)]
    next_role = NEXT_ACTOR.get(row.state)
    if next_role is not None:
        parts.append(Text(t(lang, f"resources.next_{row.state}", requester=mention(row.requester))))
    rows = []
    for tr in history(session, row.id):
        rows.append((tr.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), mention(tr.actor),
                     t(lang, f"resources.step_{tr.to_state}"),
                     f"{state_name(tr.from_state, lang) if tr.from_state else '—'} → {state_name(tr.to_state, lang)}",
                     amount_text(row.type, tr.amount, lang) if tr.amount is not None else "",
                     tr.note))
    header = tuple(t(lang, f"resources.col_{c}") for c in ("at", "actor", "step", "change", "amount", "note"))
    parts.append(Text(t(lang, "resources.history_title", tz=fmt.zone_name(tz))))
    parts.append(Table(header, tuple(rows)))
    brought = request_return(row, lang)
    if brought:
        parts.append(Text(brought))
    if ctx.member_id is not None and next_role in _positions(row, ctx):
        actions = stage_buttons(row, lang)
        if actions is not None:
            parts.append(actions)
    return Reply(parts=tuple(parts), summary=head.replace("*", ""))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

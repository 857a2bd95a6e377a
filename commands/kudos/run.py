"""Running /kudos: praise kept and posted in the team channel (公开表彰), and the list of it."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from commands.core import fmt, paging, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import (
    looks_like_a_name,
    member_named,
    mention,
    require_member,
    resolve_member,
    team_members,
)
from commands.core.reply import Outgoing, Reply, Table, Text
from commands.i18n import t
from commands.kudos.parse import LIST_LIMIT, GiveKudos, ListKudos
from storage.models import Kudos, Member, Team
from storage.uow import UnitOfWork


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    if isinstance(req, ListKudos):
        return _list(uow.session, req, ctx)
    return _give(uow.session, req, ctx)


def channel_of(team: Team) -> str:
    return f"channel:{team.channel_id}"


def _give(session, req: GiveKudos, ctx: Ctx) -> Reply:
    team, lang = ctx.team, ctx.lang
    receivers: list[Member] = []
    reason = req.reason
    for who in req.receivers:
        member, reason = _receiver(session, who, reason, req.bare, ctx)
        if member.user_id == ctx.actor.user_id:
            raise Refused("kudos.self", example="kudos.example")
        if all(m.user_id != member.user_id for m in receivers):
            receivers.append(member)
    for m in receivers:
        session.add(Kudos(team_id=team.id, giver=ctx.actor.user_id, receiver=m.user_id, reason=reason,
                    created_at=ctx.now))
    session.flush()
    whom = _join([mention(m.user_id) for m in receivers], team.lang)
    post = t(team.lang, "kudos.posted", giver=mention(ctx.actor.user_id), whom=whom, reason=reason)
    if len(receivers) == 1:
        count = received(session, team.id, receivers[0].user_id, _month_start(ctx))
        post += "\n" + t(team.lang, "kudos.posted_count", whom=whom, count=count)
    ctx.send(Outgoing(destination=channel_of(team), reply=Reply(parts=(Text(post),), private=False,
                                                                   summary=post.split("\n", 1)[0]),
                      meta={"kind": "kudos"}))
    return Reply.text(t(lang, "kudos.given", whom=_join([mention(m.user_id) for m in receivers], lang),
                        reason=reason, team=team.name))


def _receiver(session, who, reason: str, bare: bool, ctx: Ctx) -> tuple[Member, str]:
    """The member a mention means, and the reason. '@李雷拿下ACME年框' (no space after the name) is
    李雷 and 拿下ACME年框 when 李雷 is a member and the whole is not."""
    if bare:
        member = member_named(session, ctx.team_id, who.raw)
        if member is not None:
            return member, reason
        if looks_like_a_name(who.raw):
            raise UsageError("kudos.not_in_team", who="@" + who.raw, team=ctx.team.name, example="kudos.example")
        raise UsageError("kudos.person_required", example="kudos.example")
    try:
        return resolve_member(session, ctx, who), reason
    except UsageError as e:
        if not who.user_id and who.name:
            for m in team_members(session, ctx.team_id):
                for name in (m.display_name, m.user_id):
                    if name and who.name.startswith(name) and len(who.name) > len(name):
                        rest = who.name[len(name):].strip()
                        return m, (rest + " " + reason).strip() if reason else rest
        raise UsageError("kudos.not_in_team", who=e.args_.get("who", who.raw), team=ctx.team.name,
                         example="kudos.example").suggesting(e.suggestion) from None


def _join(names: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(names)


def _month_start(ctx: Ctx) -> datetime:
    """The start of this month in the team's zone (the channel's month)."""
    return parsing.period_of("month", ctx.now, ZoneInfo(ctx.team.tz)).start


def received(session, team_id: int, user_id: str, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Kudos).where(
        Kudos.team_id == team_id, Kudos.receiver == user_id, Kudos.created_at >= since)) or 0


def between(session, team_id: int, start: datetime, end: datetime, *, limit: int | None = None) -> list[Kudos]:
    """The team's kudos in [start, end), oldest first."""
    q = (select(Kudos).where(Kudos.team_id == team_id, Kudos.created_at >= start, Kudos.created_at < end)
         .order_by(Kudos.created_at, Kudos.id))
    return list(session.scalars(q.limit(limit) if limit else q))


def counts(session, team_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """receiver -> kudos received in [start, end)."""
    q = (select(Kudos.receiver, func.count()).where(Kudos.team_id == team_id, Kudos.created_at >= start,
                                                    Kudos.created_at < end).group_by(Kudos.receiver))
    return {user: int(n) for user, n in session.execute(q)}


def _list(session, req: ListKudos, ctx: Ctx) -> Reply:
    lang, team = ctx.lang, ctx.team
    q = select(Kudos).where(Kudos.team_id == team.id, Kudos.created_at >= req.period.start,
                            Kudos.created_at < req.period.end)
    label = fmt.period_label(req.period, lang)
    if req.who is not None:
        try:
            user_id = resolve_member(session, ctx, req.who).user_id
        except UsageError as e:
            raise e.with_example("kudos.example_list") from None
        q = q.where((Kudos.receiver == user_id) | (Kudos.giver == user_id))
        label += " " + mention(user_id)
    q = q.order_by(Kudos.created_at.desc(), Kudos.id.desc())
    start = paging.offset(req.page, LIST_LIMIT)
    rows = list(session.scalars(q.offset(start).limit(LIST_LIMIT + 1)))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    if not rows:
        if req.page > 1 and total:
            return Reply.text(paging.past_end(lang, req.page, total, LIST_LIMIT))
        return Reply.text(t(lang, "kudos.list_empty", period=label))
    shown = rows[:LIST_LIMIT]
    table = Table(tuple(t(lang, f"kudos.col_{c}") for c in ("when", "from", "to", "reason")),
                  tuple((fmt.short_date(k.created_at.astimezone(ctx.tz).date(), lang), mention(k.giver),
                         mention(k.receiver), k.reason) for k in shown))
    title = t(lang, "kudos.list_title", period=label, count=total)
    parts: list = [Text(title), table]
    if len(rows) > LIST_LIMIT:
        command = " ".join(x for x in ("/kudos list", req.period.label) if x)
        parts.append(paging.more_button(lang, command, req.page, start + len(shown), total, "kudos.more"))
    return Reply(parts=tuple(parts), summary=title)

"""/honor (荣誉): the manager confirms a title for a member and a period.

    /honor @li 月度销冠 [2026-11]        /荣誉 @李雷 拓客之星 上个月
    titles: 月度销冠 (top sales), 拓客之星 (prospecting star), 最佳协作 (best teammate), or any
    title of up to 30 characters; the period defaults to last month.

The monthly KPI summary proposes the known titles with a Confirm button that runs this command.
A confirmed honour is posted in the team channel once and shown on the roster (/team)."""
from __future__ import annotations

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.people import mention, require_member, resolve_member
from commands.core.reply import Reply
from commands.core.roles import require_manager
from commands.i18n import t
from commands.kudos.honours import announcement, confirm, title_name
from commands.kudos.parse import ConfirmHonour, parse_honour
from storage.uow import UnitOfWork

KEYWORDS: dict[str, tuple[str, ...]] = {}


def parse(text: str, ctx: Ctx) -> ConfirmHonour:
    return parse_honour(text, ctx)


def run(req: ConfirmHonour, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    require_manager(ctx)
    session, team, lang = uow.session, ctx.team, ctx.lang
    try:
        member = resolve_member(session, ctx, req.who)
    except UsageError as e:
        raise UsageError("honor.not_in_team", who=e.args_.get("who", req.who.raw), team=team.name,
                         example="honor.example").suggesting(e.suggestion) from None
    shown = dict(who=mention(member.user_id), title=title_name(req.title, lang),
                 period=fmt.period_label(req.period, lang))
    if not confirm(session, team, member.user_id, req.title, req.period, ctx.actor.user_id, ctx.now):
        return Reply.text(t(lang, "honor.already", **shown))
    ctx.send(announcement(team, member.user_id, req.title, req.period, ctx.actor.user_id))
    return Reply.text(t(lang, "honor.confirmed", **shown))

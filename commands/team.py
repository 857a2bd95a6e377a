"""/team: bind a channel to a team, manage the roster with the seed's roles."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from commands import handover, kudos, team_rules
from commands.core import parsing, workdays
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.keywords import keyword
from commands.core.metrics import seed_metrics
from commands.core.people import (
    BAD_ZONE,
    member_of,
    mention,
    require_member,
    require_team,
    resolve_member,
    resolve_person,
)
from commands.core.reply import Actions, Reply, Table, Text
from commands.core.roles import ROLES, find_role, require_manager, role_duty, role_name
from commands.i18n import normalize_lang, t
from storage.models import Member, Team, TeamRobot
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class SetupTeam:
    name: str
    tz: str | None
    calendar: str
    lang: str | None


@dataclass(frozen=True)
class AddMember:
    who: parsing.Mention
    role: str


@dataclass(frozen=True)
class RemoveMember:
    who: parsing.Mention


@dataclass(frozen=True)
class ShowRoster:
    pass


@dataclass(frozen=True)
class SetRobot:
    """The team's group robot for channel posts on DingTalk / WeCom; None removes it."""
    webhook: str | None
    secret: str | None


#: Platforms whose app receives only direct messages, so a team is set up from a DM.
DM_ONLY_PLATFORMS = {"wecom"}

ROBOT_HOSTS = {
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=",
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
}


KEYWORDS = {
    "setup": ("setup", "create", "创建", "新建", "建立", "设置"),
    "add": ("add", "添加", "加入", "新增"),
    "remove": ("remove", "rm", "del", "移除", "删除", "踢出"),
    "list": ("list", "roster", "show", "成员", "名单", "列表"),
    "robot": ("robot", "webhook", "机器人"),
    "rules": team_rules.WORDS,
}


def parse(text: str, ctx: Ctx):
    head, _, rest = text.partition(" ")
    kw = keyword(head, KEYWORDS) if head else "list"
    rest = rest.strip()
    if kw == "list":
        return ShowRoster()
    if kw == "setup":
        name, pairs = parsing.split_pairs(rest)
        opts = {k.casefold(): v for k, v in pairs}
        if team_rules.starts_with_rule(rest):
            return team_rules.parse(rest, ctx.lang)  # '/团队 设置 公海天数=45'
        unknown = set(opts) - {"tz", "calendar", "lang", "时区", "日历", "语言"}
        if unknown:
            raise UsageError("team.unknown_option", option=sorted(unknown)[0], example="team.example_setup")
        tz = opts.get("tz") or opts.get("时区")
        if tz is not None:
            try:
                ZoneInfo(tz)
            except BAD_ZONE:
                raise UsageError("team.bad_tz", tz=tz, example="team.example_setup") from None
        calendar = (opts.get("calendar") or opts.get("日历") or "CN").strip()
        calendar = _check_calendar(calendar)
        lang_raw = opts.get("lang") or opts.get("语言")
        lang = normalize_lang(lang_raw) if lang_raw else None
        if lang_raw and lang is None:
            raise UsageError("settings.bad_lang", value=lang_raw, example="team.example_setup")
        name = name.strip().strip("\"'“”")
        if not name:
            raise UsageError("team.name_required", example="team.example_setup")
        if len(name) > 80:
            raise UsageError("team.name_too_long", example="team.example_setup")
        return SetupTeam(name=name, tz=tz, calendar=calendar, lang=lang)
    if kw == "rules":
        return team_rules.parse(rest, ctx.lang)
    if kw == "robot":
        words = rest.split()
        if len(words) == 1 and words[0].casefold() in ("off", "remove", "关闭", "删除"):
            return SetRobot(None, None)
        if not words or len(words) > 2:
            raise UsageError("team.robot_usage", example="team.example_robot")
        webhook, secret = words[0], (words[1] if len(words) == 2 else None)
        if not any(webhook.startswith(prefix) and len(webhook) > len(prefix) for prefix in ROBOT_HOSTS.values()):
            raise UsageError("team.robot_bad_url", example="team.example_robot")
        if webhook.startswith(ROBOT_HOSTS["dingtalk"]) and (secret is None or not secret.startswith("SEC")):
            raise UsageError("team.robot_bad_secret", example="team.example_robot")
        return SetRobot(webhook, secret)
    if kw in ("add", "remove"):
        mentions, leftover = parsing.take_mentions(rest)
        example = f"team.example_{kw}"
        if kw == "remove" and not mentions and len(leftover.split()) == 1:
            # '/团队 移除 李雷': a member named without @ (run() checks the name).
            mentions, leftover = [parsing.Mention(None, leftover, leftover)], ""
        if len(mentions) != 1:
            raise UsageError("team.one_person", example=example)
        if kw == "remove":
            if leftover:
                raise UsageError("team.unexpected_text", text=leftover, example=example)
            return RemoveMember(who=mentions[0])
        if not leftover:
            raise UsageError("team.role_required", known=", ".join(ROLES), example=example)
        return AddMember(who=mentions[0], role=find_role(leftover))
    raise UsageError("team.unknown_keyword", word=head, example="team.example")


def _check_calendar(code: str) -> str:
    try:
        return workdays.validate_calendar(code)
    except ValueError:
        raise UsageError("team.bad_calendar", calendar=code, example="team.example_setup") from None


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    session = uow.session
    lang = ctx.lang
    if isinstance(req, SetupTeam):
        if ctx.inv.direct and ctx.actor.platform not in DM_ONLY_PLATFORMS:
            raise UsageError("team.setup_in_dm", example="-")
        channel = ctx.inv.channel
        if ctx.inv.direct:
            # A WeCom app hears only 1:1 chats: the team gets a channel id of its own, members reach it
            # from their DMs (their only team), and group posts go through its group robot.
            channel = f"team:{uuid.uuid4().hex[:12]}"
        bound = session.scalars(select(Team).where(Team.platform == ctx.actor.platform,
                                             Team.channel_id == channel)).first()
        if bound is not None:
            raise Refused("team.already_bound", name=bound.name, example="-")
        team_lang = req.lang or ("zh" if req.calendar == "CN" else lang)
        team = Team(platform=ctx.actor.platform, channel_id=channel, name=req.name,
                    tz=req.tz or "Asia/Shanghai", calendar=req.calendar, lang=team_lang,
                    created_by=ctx.actor.user_id, created_at=ctx.now)
        session.add(team)
        uow.flush()
        session.add(Member(team_id=team.id, user_id=ctx.actor.user_id, display_name=ctx.actor.name,
                     role="manager", joined_at=ctx.now))
        seed_metrics(session, team.id)
        lang = req.lang or lang
        return Reply.text(t(lang, "team.setup_done", name=team.name, manager=mention(ctx.actor.user_id),
                            tz=team.tz, calendar=team.calendar, lang=team.lang), private=False)

    if isinstance(req, (team_rules.ShowRules, team_rules.SetRules)):
        return team_rules.run(req, uow, ctx)
    require_team(ctx)
    team = ctx.team
    if isinstance(req, ShowRoster):
        return roster(session, team, lang)

    require_member(ctx)
    require_manager(ctx)
    if isinstance(req, SetRobot):
        return _set_robot(session, req, ctx)
    if isinstance(req, RemoveMember):
        return _remove(session, req, ctx)
    user_id, display = resolve_person(session, ctx, req.who)
    existing = member_of(session, team.id, user_id)
    if isinstance(req, AddMember):
        if existing is None:
            session.add(Member(team_id=team.id, user_id=user_id, display_name=display, role=req.role,
                         joined_at=ctx.now))
            key = "team.added"
        elif existing.role == req.role:
            return Reply.text(t(lang, "team.already_member", who=mention(user_id),
                                role=role_name(req.role, lang)))
        else:
            if existing.role == "manager" and _managers(session, team.id) == 1:
                raise Refused("team.last_manager", example="-")
            existing.role = req.role
            session.add(existing)
            key = "team.role_changed"
        return Reply.text(t(lang, key, who=mention(user_id), role=role_name(req.role, lang),
                            duty=role_duty(req.role, lang), team=team.name), private=False)


def _remove(session, req: RemoveMember, ctx: Ctx) -> Reply:
    """Remove a member and list what they leave open, with buttons to take their tasks over."""
    team, lang = ctx.team, ctx.lang
    try:
        existing = resolve_member(session, ctx, req.who)
    except UsageError as e:
        raise UsageError("team.not_a_member", who=e.args_["who"], team=team.name, example="-") \
            .suggesting(e.suggestion) from None
    if existing.role == "manager" and _managers(session, team.id) == 1:
        raise Refused("team.last_manager", example="-")
    user_id = existing.user_id
    # Listed while the leaver is still a member: what they leave depends on the roles they held.
    open_text, buttons = handover.left_open(session, team, user_id, ctx)
    session.delete(existing)
    session.flush()
    head = t(lang, "team.removed", who=mention(user_id), team=team.name)
    parts: list = [Text(head + "\n" + open_text)]
    if buttons:
        parts.append(Actions(tuple(buttons)))
    return Reply(parts=tuple(parts), private=False, summary=head)


def _managers(session, team_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Member)
                    .where(Member.team_id == team_id, Member.role == "manager"))


def roster(session, team: Team, lang: str) -> Reply:
    members = list(session.scalars(select(Member).where(Member.team_id == team.id)))
    order = list(ROLES)
    members.sort(key=lambda m: (order.index(m.role) if m.role in order else 99, m.joined_at))
    rows = []
    for m in members:
        talks = ("、" if lang == "zh" else ", ").join(role_name(r, lang) for r in ROLES[m.role].talks_to) if m.role in ROLES else ""
        rows.append((mention(m.user_id), role_name(m.role, lang), role_duty(m.role, lang), talks))
    header = tuple(t(lang, f"team.col_{c}") for c in ("who", "role", "duty", "talks_to"))
    # Confirmed honours (荣誉称号), a column of their own once anyone has one.
    honours = kudos.of_members(session, team.id, lang, ZoneInfo(team.tz))
    if honours:
        rows = [(*row, honours.get(m.user_id, "")) for row, m in zip(rows, members)]
        header += (t(lang, "honor.col_honours"),)
    title = t(lang, "team.roster_title", name=team.name, count=len(members), tz=team.tz,
              calendar=team.calendar)
    return Reply(parts=(Text(title), Table(header, tuple(rows))), summary=title)


def _set_robot(session, req: SetRobot, ctx: Ctx) -> Reply:
    # Replaced, never read: the old one may be encrypted with a key this process no longer has
    # (storage/sealed.py), and setting the robot again is how a manager recovers from that.
    session.execute(delete(TeamRobot).where(TeamRobot.team_id == ctx.team_id))
    if req.webhook is None:
        return Reply.text(t(ctx.lang, "team.robot_removed", team=ctx.team.name))
    session.add(TeamRobot(team_id=ctx.team_id, webhook=req.webhook, secret=req.secret, set_by=ctx.actor.user_id,
                    updated_at=ctx.now))
    # Never echo the token or the secret: the reply may be seen in a group.
    return Reply.text(t(ctx.lang, "team.robot_set", team=ctx.team.name))

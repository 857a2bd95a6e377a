"""Turning a mention into a platform user id, and the member checks most commands start with."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from commands.core import suggest
from commands.core.errors import Refused, UsageError
from commands.i18n import DEFAULT_LANG
from storage.models import Member, Team, UserPref

# Platforms whose mentions carry only a name, so a name is the id (the local console).
NAME_IS_ID = {"console"}


def resolve_person(session: Session, ctx, mention) -> tuple[str, str]:
    """-> (user_id, display name)."""
    if mention.user_id:
        return mention.user_id, mention.name or _display(session, ctx, mention.user_id) or ""
    name = mention.name or ""
    if ctx.team_id is not None:
        m = session.scalars(select(Member).where(Member.team_id == ctx.team_id,
                                                 (Member.display_name == name) | (Member.user_id == name))
                            ).first()
        if m is not None:
            return m.user_id, m.display_name or m.user_id
    if ctx.actor.platform in NAME_IS_ID:
        return name, name
    raise UsageError("core.unknown_person", name=name)


def team_members(session: Session, team_id: int) -> list[Member]:
    return list(session.scalars(select(Member).where(Member.team_id == team_id).order_by(Member.id)))


def _names(m: Member) -> list[str]:
    return [n for n in (m.display_name, m.user_id) if n]


def member_named(session: Session, team_id: int | None, word: str) -> Member | None:
    """The member whose name (display name or id) is `word`, ignoring case and a leading @; None when
    no one or more than one is called that."""
    key = (word or "").strip().lstrip("@＠").casefold()
    if not key or team_id is None:
        return None
    found = [m for m in team_members(session, team_id) if key in (n.casefold() for n in _names(m))]
    return found[0] if len(found) == 1 else None


def member_near(session: Session, team_id: int | None, word: str) -> Member | None:
    """The one member whose name is a typo away from `word` (李蕾 for 李雷), else None."""
    if team_id is None:
        return None
    members = team_members(session, team_id)
    guess = suggest.closest((word or "").lstrip("@＠"), [n for m in members for n in _names(m)])
    if guess is None:
        return None
    found = [m for m in members if guess in _names(m)]
    return found[0] if len(found) == 1 else None


#: The most common Chinese surnames, and the two-character ones people still meet.
_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "慕容", "令狐", "夏侯")


def looks_like_a_name(word: str) -> bool:
    """A word written the way a Chinese name is (王五, 李总, 欧阳娜娜): two to four Chinese characters
    starting with a common surname. Only a hint that a word may mean a person."""
    if not 2 <= len(word) <= 4 or not all("\u4e00" <= c <= "\u9fff" for c in word):
        return False
    return word[0] in _SURNAMES or word.startswith(_COMPOUND_SURNAMES)


def resolve_member(session: Session, ctx, mention) -> Member:
    """The team member a mention (or a name typed without @) means. Anyone else is refused by name,
    with the closest member's name when there is one."""
    member = None
    if mention.user_id:
        member = session.scalars(select(Member).where(Member.team_id == ctx.team_id,
                                                      Member.user_id == mention.user_id)).first()
    else:
        member = member_named(session, ctx.team_id, mention.name or "")
    if member is not None:
        return member
    named = mention.user_id or (mention.name if ctx.actor.platform in NAME_IS_ID else None)
    who = f"<@{named}>" if named else "@" + (mention.name or "")
    near = None if mention.user_id else member_near(session, ctx.team_id, mention.name or "")
    raise UsageError("core.not_a_member", who=who, team=ctx.team.name if ctx.team else "", example="-") \
        .suggesting(f"<@{near.user_id}>" if near else None)


def _display(session: Session, ctx, user_id: str) -> str | None:
    if ctx.team_id is None:
        return None
    m = session.scalars(select(Member).where(Member.team_id == ctx.team_id, Member.user_id == user_id)).first()
    return m.display_name if m else None


def require_team(ctx) -> None:
    if ctx.team_id is None:
        raise UsageError("core.no_team", example="team.example_setup")


def require_member(ctx) -> None:
    require_team(ctx)
    if ctx.member_id is None:
        raise Refused("core.not_member", team=ctx.team.name, example="-")


def member_of(session: Session, team_id: int, user_id: str) -> Member | None:
    return session.scalars(select(Member).where(Member.team_id == team_id, Member.user_id == user_id)).first()


def typed_mention(ctx, user_id: str) -> str:
    """A person as a command typed by a button names them: '@wang' on the console (a name is the id),
    '<@U123>' on the platforms with user ids."""
    return f"@{user_id}" if ctx.actor.platform in NAME_IS_ID else f"<@{user_id}>"


def mention(user_id: str) -> str:
    """Neutral mention markup; renderers turn it into a platform mention or @name."""
    return f"<@{user_id}>"


def adopt_team_of(session: Session, ctx, model, row_id: int, max_id: int) -> None:
    """A button clicked in a DM by someone in several teams: the row (a task, a request) says which
    team is meant, provided the clicker is a member of it (else the usual "no team" answer follows)."""
    row = session.get(model, row_id) if 0 < row_id <= max_id else None
    if row is None:
        return
    team = session.get(Team, row.team_id)
    if team is None or team.platform != ctx.actor.platform:
        return
    member = member_of(session, team.id, ctx.actor.user_id)
    if member is not None:
        ctx.team, ctx.member = team, member


# -- the people a reply or a job writes to --------------------------------------------------------

#: What ZoneInfo raises for a zone it cannot use (ZoneInfoNotFoundError is a KeyError; a name with
#: a path in it, a ValueError; an unreadable zone file, an OSError).
BAD_ZONE = (KeyError, ValueError, OSError)


def zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """The time zone called `name`, else `fallback` (no name, or one that is no zone)."""
    if name:
        try:
            return ZoneInfo(name)
        except BAD_ZONE:
            pass
    return fallback


class RecipientPrefs:
    """The language, time zone and time away of the people one reply or job writes to, read in one
    query. One rule: each person's own choice (/teambot lang, tz, away), else the team's."""

    def __init__(self, session: Session, team: Team, user_ids: Iterable[str]):
        self.team = team
        wanted = sorted(set(user_ids))
        rows = session.scalars(select(UserPref).where(UserPref.platform == team.platform,
                                                      UserPref.user_id.in_(wanted))) if wanted else []
        self.prefs: dict[str, UserPref] = {p.user_id: p for p in rows}
        self.team_tz = zone(team.tz, ZoneInfo("Asia/Shanghai"))

    def lang(self, user_id: str) -> str:
        p = self.prefs.get(user_id)
        return (p.lang if p else None) or self.team.lang or DEFAULT_LANG

    def tz(self, user_id: str) -> ZoneInfo:
        p = self.prefs.get(user_id)
        return zone(p.tz if p else None, self.team_tz)

    def away_until(self, user_id: str) -> datetime | None:
        p = self.prefs.get(user_id)
        return p.away_until if p else None

    def away(self, user_id: str, at: datetime) -> bool:
        until = self.away_until(user_id)
        return bool(until and until > at)


def recipient_prefs(session: Session, team: Team, user_ids: Iterable[str]) -> RecipientPrefs:
    """`prefs.lang(user)`, `prefs.tz(user)`, `prefs.away(user, at)` for everyone in `user_ids`."""
    return RecipientPrefs(session, team, user_ids)

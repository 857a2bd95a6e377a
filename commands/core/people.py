"""Turning a mention into a platform user id, and the member checks most commands start with."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from commands.core.errors import Refused, UsageError
from storage.models import Member, Team

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

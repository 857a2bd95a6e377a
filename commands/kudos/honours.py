"""Honours (荣誉称号): proposed from the data in the monthly KPI summary, confirmed by the manager
(a button, or /honor), posted in the channel and shown on the roster."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.core import fmt, parsing
from commands.core.errors import UsageError
from commands.core.metrics import metric_name, team_metrics
from commands.core.people import NAME_IS_ID, mention
from commands.core.reply import Actions, Button, Outgoing, Reply, Text
from commands.i18n import t
from commands.kudos.parse import TITLES
from commands.kudos.run import channel_of, counts
from storage import queries
from storage.models import Honour, Member, Team

#: The proposals, in order. 月度销冠: the `sales` metric. 拓客之星: customers that reached the team's
#: quality stage in the customer database (高质量客户); a team that keeps no customers there is
#: ranked by the `customers` metric (新客户) instead. 最佳协作: kudos received.
PROPOSED = ("top_sales", "top_prospector", "best_teamwork")
#: 拓客之星's numbers, the first that anyone has in the period.
PROSPECT_METRICS = ("qualified", "customers")
#: Roles that take part: the manager confirms, so is not proposed.
CANDIDATE_ROLES = ("rep", "account_manager", "marketing", "resource_admin", "performance_admin")
MAX_TIED = 3


def title_name(title: str, lang: str) -> str:
    """A known title in the reader's language (月度销冠 / Top seller of the month); others as typed."""
    return t(lang, f"honor.title_{title}") if title in TITLES else title


def period_name(label: str, tz, lang: str) -> str:
    """A stored period label (2026-11) as people read it (2026年11月)."""
    try:
        return fmt.period_label(parsing.parse_period(label, _ANY_NOW, tz), lang)
    except UsageError:
        return label


#: Labels are absolute (2026-11, 2026-Q4), so reading one needs no real "now".
_ANY_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)


def confirm(session, team: Team, user_id: str, title: str, period: parsing.Period, by: str, now) -> bool:
    """Keep the honour; False when it was confirmed before (a second click, a retry)."""
    table = Honour.__table__
    dialect = session.connection().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(
        team_id=team.id, user_id=user_id, title=title, period=period.label, period_start=period.start,
        confirmed_by=by, confirmed_at=now).on_conflict_do_nothing(
        index_elements=["team_id", "user_id", "title", "period"]).returning(table.c.id)
    return session.execute(ins).first() is not None


def announcement(team: Team, user_id: str, title: str, period: parsing.Period, by: str) -> Outgoing:
    lang = team.lang or "zh"
    text = t(lang, "honor.posted", who=mention(user_id), title=title_name(title, lang),
             period=fmt.period_label(period, lang), by=mention(by))
    return Outgoing(destination=channel_of(team), reply=Reply(parts=(Text(text),), private=False,
                                                              summary=text.split("\n", 1)[0]),
                    dedupe_key=f"team:{team.id}:honour:{user_id}:{period.label}:{title}"[:200],
                    meta={"kind": "honour"})


def of_members(session, team_id: int, lang: str, tz, limit: int = 3) -> dict[str, str]:
    """user id -> their latest honours ("月度销冠（2026年11月）"), for the roster."""
    rows = session.scalars(select(Honour).where(Honour.team_id == team_id)
                     .order_by(Honour.period_start.desc(), Honour.id.desc()))
    out: dict[str, list[str]] = {}
    for h in rows:
        mine = out.setdefault(h.user_id, [])
        if len(mine) < limit:
            mine.append(t(lang, "honor.on_roster", title=title_name(h.title, lang),
                          period=period_name(h.period, tz, lang)))
    return {user: ("、" if lang == "zh" else ", ").join(v) for user, v in out.items()}


# -- proposals in the monthly summary ---------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    title: str
    members: tuple[Member, ...]
    shown: str  # the number that earned it, formatted


def proposals(session, team: Team, period: parsing.Period, lang: str) -> list[Proposal]:
    """The titles the data proposes for `period`: the most sales, the most new (qualified)
    customers, the most kudos received; ties are proposed together (at most MAX_TIED)."""
    people = [m for m in session.scalars(select(Member).where(Member.team_id == team.id).order_by(Member.id))
              if m.role in CANDIDATE_ROLES]
    if not people:
        return []
    metrics = {m.code: m for m in team_metrics(session, team.id)}
    out: list[Proposal] = []
    for code in PROPOSED:
        if code == "best_teamwork":
            got = counts(session, team.id, period.start, period.end)
            scores = {m.user_id: float(got.get(m.user_id, 0)) for m in people}
            fmt_value = (lambda v: t(lang, "honor.kudos_count", count=int(v)))
        else:
            per_user, metric = {}, None
            for name in ("sales",) if code == "top_sales" else PROSPECT_METRICS:
                metric = metrics.get(name)
                if metric is None:
                    continue
                per_user = queries.actuals_by_user(session, team.id, [metric], period.start, period.end)
                if any(v.get(metric.id) for v in per_user.values()):
                    break
            if metric is None:
                continue
            scores = {m.user_id: per_user.get(m.user_id, {}).get(metric.id, 0.0) for m in people}
            fmt_value = (lambda v, m=metric: f"{metric_name(m, lang)} {fmt.amount(v, m.unit, lang)}")
        best = max(scores.values(), default=0.0)
        if best <= 0:
            continue
        top = tuple(m for m in people if scores[m.user_id] == best)[:MAX_TIED]
        out.append(Proposal(code, top, fmt_value(best)))
    return out


def proposal_parts(session, team: Team, period: parsing.Period, lang: str) -> list:
    """The summary's honours section: each proposed title with a Confirm button for the manager."""
    found = proposals(session, team, period, lang)
    if not found:
        return []
    confirmed = {(h.user_id, h.title) for h in session.scalars(select(Honour).where(
        Honour.team_id == team.id, Honour.period == period.label))}
    lines, buttons = [t(lang, "honor.proposals_title", period=fmt.period_label(period, lang))], []
    for p in found:
        whom = ("、" if lang == "zh" else ", ").join(mention(m.user_id) for m in p.members)
        lines.append(t(lang, "honor.proposal_line", title=title_name(p.title, lang), whom=whom, value=p.shown))
        for m in p.members:
            if (m.user_id, p.title) in confirmed:
                continue
            typed = f"@{m.user_id}" if team.platform in NAME_IS_ID else f"<@{m.user_id}>"
            buttons.append(Button(label=t(lang, "honor.button_confirm", title=title_name(p.title, lang),
                                          name=m.display_name or m.user_id),
                                  action_id="honor.confirm", value=p.title,
                                  command=f"/honor {typed} {title_name(p.title, lang)} {period.label}",
                                  style="primary"))
    lines.append(t(lang, "honor.proposals_hint"))
    parts: list = [Text("\n".join(lines))]
    if buttons:
        parts.append(Actions(tuple(buttons)))
    return parts

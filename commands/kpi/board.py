"""The leaderboard and the chart of a KPI summary (public recognition), also on demand with /kpi chart.

Members are ranked by the primary metric (sales, else the first summed one). A sales leaderboard is
about the people who sell: marketing, resource and performance admins are left out, and so is a
manager who neither logged a value nor has a target of that metric.
"""
from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path

from commands import goals
from commands.core import charts, fmt, parsing
from commands.core.metrics import metric_name, team_metrics
from commands.core.people import mention
from commands.core.reply import Image, Reply, Table, Text
from commands.i18n import t
from commands.kpi.rows import members, primary_metric
from storage import queries
from storage.models import Member, Metric, Team

log = logging.getLogger("teambot.kpi")

MEDALS = ("🥇", "🥈", "🥉")
#: Roles that sell: always on the board.
SALES_ROLES = ("rep", "account_manager")
#: Roles that may sell: on the board when they have a value or a target of the metric.
MAYBE_SALES_ROLES = ("manager",)

Ranked = list[tuple[Member, float, float | None]]


def leaderboard(session, team: Team, period: parsing.Period, metrics: list[Metric], lang: str
                ) -> tuple[Metric | None, Ranked]:
    """-> (the ranking metric, [(member, actual, target)] best first)."""
    m = primary_metric(metrics)
    if m is None:
        return None, []
    per_user = queries.actuals_by_user(session, team.id, [m], period.start, period.end)
    targets = goals.user_targets(session, team.id, period)
    ranked = []
    for mem in members(session, team.id):
        actual = per_user.get(mem.user_id, {}).get(m.id, 0.0)
        target = targets.get((mem.user_id, m.id))
        if mem.role in SALES_ROLES or (mem.role in MAYBE_SALES_ROLES and (actual or target is not None)):
            ranked.append((mem, actual, target))
    ranked.sort(key=lambda x: (-x[1], x[0].user_id))
    return m, ranked


def board_parts(primary: Metric, ranked: Ranked, lang: str) -> list:
    """The leaderboard table and its shout-outs (the star of the period, who met their goal)."""
    unit, name = primary.unit, metric_name(primary, lang)
    rows = []
    for i, (mem, actual, target) in enumerate(ranked):
        rank = MEDALS[i] if i < len(MEDALS) and actual > 0 else f"{i + 1}."
        rows.append((rank, mention(mem.user_id), fmt.amount(actual, unit, lang),
                     "—" if target is None else fmt.amount(target, unit, lang),
                     goals.pct(goals.attainment(actual, target))))
    header = tuple(t(lang, f"kpi.col_{c}") for c in ("rank", "who", "actual", "target", "attainment"))
    parts: list = [Text(t(lang, "kpi.leaderboard_title", metric=name)), Table(header, tuple(rows))]
    shout = []
    top = ranked[0]
    if top[1] > 0:
        shout.append(t(lang, "kpi.star", who=mention(top[0].user_id), metric=name, value=fmt.amount(top[1], unit, lang)))
    achievers = [mention(m.user_id) for m, a, tg in ranked if tg is not None and a >= tg]
    if achievers:
        shout.append(t(lang, "kpi.achievers", who=("、" if lang == "zh" else ", ").join(achievers)))
    if shout:
        parts.append(Text("\n".join(shout)))
    return parts


def chart_dir() -> Path:
    """Where chart PNGs go: $TEAMBOT_CHART_DIR, else <tmp>/teambot-charts. With several replicas it
    must be a folder every sender can read (or the sender must run where the chart was drawn)."""
    env = os.environ.get("TEAMBOT_CHART_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / "teambot-charts"


def chart(team: Team, period: parsing.Period, primary: Metric, ranked: Ranked, lang: str, name: str,
          folder: Path | None = None) -> tuple[Image | None, charts.Chart | None]:
    """Target vs actual per member as a PNG (axes in 万 for Chinese readers), or (None, None) when it
    cannot be drawn; the post goes out without it then."""
    metric, unit, plabel = metric_name(primary, lang), primary.unit, fmt.period_label(period, lang)
    path = (folder or chart_dir()) / f"kpi-team{team.id}-{name}.png"
    try:
        picture = charts.render(
            path, title=t(lang, "kpi.chart_title", team=team.name, period=plabel, metric=metric),
            labels=[(m.display_name or m.user_id, m.user_id) for m, _, _ in ranked],
            actual=[a for _, a, _ in ranked], target=[tg for _, _, tg in ranked],
            legend=(t(lang, "kpi.chart_actual"), t(lang, "kpi.chart_target")),
            ascii_title=f"{period.label} {primary.name_en}: target vs actual",
            value_format=lambda v: fmt.axis_amount(v, unit, lang))
    except Exception:
        log.exception("team %s: chart %s failed; going on without it", team.id, name)
        return None, None
    if picture is None:
        return None, None
    return Image(path=picture.path, alt=t(lang, "kpi.chart_alt", period=plabel, metric=metric)), picture


def chart_reply(session, team: Team, period: parsing.Period, now: datetime, tz, lang: str) -> Reply:
    """/kpi chart: the leaderboard of the period so far, with its chart."""
    metrics = team_metrics(session, team.id)
    primary, ranked = leaderboard(session, team, period, metrics, lang)
    title = t(lang, "kpi.chart_reply_title", team=team.name, period=fmt.period_label(period, lang))
    if primary is None or not ranked:
        return Reply.text(t(lang, "kpi.chart_nobody", team=team.name))
    parts: list = [Text(title), *board_parts(primary, ranked, lang)]
    stamp = now.astimezone(tz).strftime("%Y%m%d-%H%M%S")
    image, _ = chart(team, period, primary, ranked, lang, f"{period.label}-{stamp}")
    if image is not None:
        parts.append(image)
    return Reply(parts=tuple(parts), summary=title)

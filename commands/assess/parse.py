"""/assess text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from commands.core import parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import split_head
from commands.kpi.parse import CURRENT, SELF_WORDS, TEAM_WORDS

KEYWORDS = {
    "confirm": ("confirm", "approve", "sign", "确认", "确定", "审定", "核定"),
    "ack": ("ack", "acknowledge", "accept", "agree", "认可", "无异议", "知悉", "签收", "同意"),
    "object": ("object", "objection", "appeal", "dispute", "异议", "有异议", "申诉", "提出异议"),
}
SCOPES = {"team": TEAM_WORDS, "me": SELF_WORDS}
_SCORE = re.compile(r"(?:^|\s)(?:score|得分|分数|评分|总分)\s*(?:[=:：＝]\s*(?P<v>\S*)|(?P<n>\d+(?:\.\d+)?)分?(?=\s|$))"
                    r"|(?:^|\s)(?P<f>\d+(?:\.\d+)?)\s*分(?=\s|$)", re.I)
MAX_SCORE = 200.0
MAX_TEXT = 500


@dataclass(frozen=True)
class ShowSheet:
    who: parsing.Mention | None
    me: bool
    team: bool
    #: None: this month.
    period: parsing.Period | None


@dataclass(frozen=True)
class ConfirmAssessment:
    period: parsing.Period
    who: parsing.Mention
    score: float | None
    comment: str


@dataclass(frozen=True)
class OpenConfirmForm:
    pass


@dataclass(frozen=True)
class Acknowledge:
    period: parsing.Period | None


@dataclass(frozen=True)
class Object:
    period: parsing.Period | None
    reason: str


def _period_of(text: str, ctx: Ctx) -> parsing.Period | None:
    low = text.strip().casefold()
    if not low:
        return None
    if low in CURRENT:
        return parsing.period_of(CURRENT[low], ctx.now, ctx.tz)
    try:
        return parsing.parse_period(text, ctx.now, ctx.tz)
    except UsageError:
        return None


def take_period(words: list[str], ctx: Ctx) -> tuple[parsing.Period | None, list[str]]:
    """The longest run of leading words that reads as a period ('last month', '2026年 11月'), and the rest."""
    for n in range(min(3, len(words)), 0, -1):
        p = _period_of(" ".join(words[:n]), ctx)
        if p is not None:
            return p, words[n:]
    return None, words


def _assessable(p: parsing.Period, example: str) -> parsing.Period:
    if p.kind not in ("month", "quarter", "year"):
        raise UsageError("assess.period_kind", example=example)
    return p


def parse(text: str, ctx: Ctx):
    kw, _, rest = split_head(text.strip(), KEYWORDS)
    if kw == "confirm":
        return _confirm(rest, ctx)
    if kw in ("ack", "object"):
        return _answer(kw, rest, ctx)
    return _show(text, ctx)


def _show(text: str, ctx: Ctx) -> ShowSheet:
    mentions, rest = parsing.take_mentions(text)
    if len(mentions) > 1:
        raise UsageError("assess.one_person", example="assess.example")
    me = team = False
    kept = []
    for w in rest.split():
        low = w.casefold()
        if low in SELF_WORDS:
            me = True
        elif low in TEAM_WORDS:
            team = True
        else:
            kept.append(w)
    period, left = take_period(kept, ctx)
    if left and not mentions and not me and not team:
        # '/考核 李雷 上月': a member named without @ (run() checks the name against the team).
        p2, left2 = take_period(left[1:], ctx)
        if not left2 and (period is None or p2 is None):
            mentions, period, left = [parsing.Mention(None, left[0], left[0])], period or p2, []
    if left:
        raise UsageError("assess.bad_period_or_person", value=" ".join(left), example="assess.example_period")
    if sum((bool(mentions), me, team)) > 1:
        raise UsageError("assess.one_person", example="assess.example")
    if period is not None:
        _assessable(period, "assess.example_period")
    return ShowSheet(who=mentions[0] if mentions else None, me=me, team=team, period=period)


def _confirm(rest: str, ctx: Ctx):
    example = "assess.example_confirm"
    if not rest.strip():
        return OpenConfirmForm()
    score = None
    m = _SCORE.search(rest)
    if m:
        typed = m.group("v") if m.group("v") is not None else m.group("n") or m.group("f") or ""
        try:
            score = float(typed.rstrip("分").strip())
        except ValueError:
            raise UsageError("assess.bad_score", value=typed, example=example) from None
        if not math.isfinite(score) or not 0 <= score <= MAX_SCORE:
            raise UsageError("assess.bad_score", value=typed, example=example)
        rest = (rest[:m.start()] + " " + rest[m.end():]).strip()
    mentions, rest = parsing.take_mentions(rest)
    if len(mentions) > 1:
        raise UsageError("assess.one_person", example=example)
    words = rest.split()
    period, words = take_period(words, ctx)
    if period is None:
        if words:
            raise UsageError("assess.bad_period", value=words[0], example=example)
        raise UsageError("assess.period_required", example=example)
    _assessable(period, example)
    if not mentions:
        if not words:
            raise UsageError("assess.person_required", example=example)
        # A name typed without @; run() refuses it by name when it is no member.
        mentions, words = [parsing.Mention(None, words[0].lstrip("@＠"), words[0])], words[1:]
    comment = " ".join(words)
    for prefix in ("comment", "note", "评语", "备注"):
        if comment.casefold().startswith(prefix):
            comment = comment[len(prefix):].lstrip(" :：=").strip()
            break
    if len(comment) > MAX_TEXT:
        raise UsageError("assess.too_long", n=MAX_TEXT, example=example)
    return ConfirmAssessment(period=period, who=mentions[0], score=score, comment=comment)


def _answer(kw: str, rest: str, ctx: Ctx):
    example = f"assess.example_{kw}"
    words = rest.split()
    period, words = take_period(words, ctx)
    if period is not None:
        _assessable(period, example)
    reason = " ".join(words).strip()
    if kw == "ack":
        if reason:
            raise UsageError("assess.bad_period", value=words[0], example=example)
        return Acknowledge(period)
    for prefix in ("because", "reason", "理由", "原因", "因为"):
        if reason.casefold().startswith(prefix):
            reason = reason[len(prefix):].lstrip(" :：=").strip()
            break
    if not reason:
        raise UsageError("assess.reason_required", example=example)
    if len(reason) > MAX_TEXT:
        raise UsageError("assess.too_long", n=MAX_TEXT, example=example)
    return Object(period, reason)

"""Reading /kudos and /honor (pure: text in, a request or a UsageError out)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from commands.core import paging, parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import keyword
from commands.core.parsing.mentions import _MENTION, _mention_at

MAX_REASON = 500
MAX_TITLE = 30
MAX_RECEIVERS = 5
LIST_LIMIT = 30

KEYWORDS = {
    "list": ("list", "ls", "列表", "查看", "记录"),
}
#: Words people put between the command and the person ("/kudos to @li", "/表扬 给 @李雷").
_LEAD_WORDS = ("to", "给", "表扬", "感谢", "thanks", "thank")
#: Words between the person and the reason ("@li for closing ACME", "@李雷 因为 拿下ACME").
_REASON_WORDS = ("for", "because", "因为", "由于")
#: What may separate two people or a person from the reason: "@李雷、@韩梅梅：拿下ACME".
_SEPARATORS = " \t,，、;；:：&和及与"


@dataclass(frozen=True)
class GiveKudos:
    #: Who is praised, as mentioned (or a name typed without @, `bare` then).
    receivers: tuple[parsing.Mention, ...]
    reason: str
    #: The first word was taken for a name typed without @ (run() checks it is a member).
    bare: bool = False


@dataclass(frozen=True)
class ListKudos:
    period: parsing.Period
    who: parsing.Mention | None = None
    page: int = 1


def parse(text: str, ctx: Ctx):
    if not text:
        raise UsageError("kudos.person_required", example="kudos.example")
    head, _, rest = text.partition(" ")
    if keyword(head, KEYWORDS) == "list":
        return _parse_list(rest.strip(), ctx)
    receivers, reason, bare = _receivers(text)
    reason = _reason(reason)
    if not receivers:
        raise UsageError("kudos.person_required", example="kudos.example")
    if len(receivers) > MAX_RECEIVERS:
        raise UsageError("kudos.too_many", max=MAX_RECEIVERS, example="kudos.example")
    if not reason:
        raise UsageError("kudos.reason_required", example="kudos.example")
    if len(reason) > MAX_REASON:
        raise UsageError("kudos.reason_too_long", max=MAX_REASON, example="kudos.example")
    return GiveKudos(receivers=tuple(receivers), reason=reason, bare=bare)


def _receivers(text: str) -> tuple[list[parsing.Mention], str, bool]:
    """The people named at the start (mentions, one after another) and the text after them."""
    rest = text.strip()
    first, _, after = rest.partition(" ")
    if first.casefold() in _LEAD_WORDS and after.strip():
        rest = after.strip()
    found: list[parsing.Mention] = []
    while True:
        m = _MENTION.match(rest)
        at = _mention_at(m) if m else None
        if at is None:
            break
        _, end, mention = at
        if all(x.raw != mention.raw for x in found):
            found.append(mention)
        rest = rest[end:].lstrip(_SEPARATORS)
        nxt, _, after = rest.partition(" ")
        if nxt in ("and", "&") and after.lstrip().startswith(("@", "＠", "<@")):
            rest = after.lstrip()
    if found:
        return found, rest, False
    # '/表扬 李雷 拿下ACME年框': a member named without @, checked by run().
    first, _, after = rest.partition(" ")
    first = first.strip(_SEPARATORS)
    if first and after.strip():
        return [parsing.Mention(None, first, first)], after.strip(), True
    return [], rest, False


def _reason(text: str) -> str:
    text = text.strip().lstrip(_SEPARATORS).strip()
    first, _, after = text.partition(" ")
    if first.casefold() in _REASON_WORDS and after.strip():
        return after.strip()
    return text


def _parse_list(rest: str, ctx: Ctx) -> ListKudos:
    example = "kudos.example_list"
    page, rest = paging.take_page(rest, example)
    mentions, leftover = parsing.take_mentions(rest)
    if len(mentions) > 1:
        raise UsageError("kudos.one_person", example=example)
    if leftover:
        try:
            period = parsing.parse_period(leftover, ctx.now, ctx.tz)
        except UsageError as e:
            raise e.with_example(example) from None
    else:
        period = parsing.period_of("month", ctx.now, ctx.tz)
    return ListKudos(period=period, who=mentions[0] if mentions else None, page=page)


# -- /honor -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmHonour:
    who: parsing.Mention
    #: A known title's code (top_sales, ...) or the words typed.
    title: str
    period: parsing.Period


#: Known titles: code -> what people type for it (the code, Chinese, English).
TITLES: dict[str, tuple[str, ...]] = {
    "top_sales": ("top_sales", "月度销冠", "销冠", "销售冠军", "top sales", "top seller", "sales champion",
                  "top seller of the month"),
    "top_prospector": ("top_prospector", "拓客之星", "拓客王", "prospecting star", "top prospector",
                       "star prospector"),
    "best_teamwork": ("best_teamwork", "最佳协作", "最佳协作奖", "best teamwork", "best teammate",
                      "best collaborator", "team player"),
}
_BY_TITLE = {" ".join(n.casefold().split()): code for code, names in TITLES.items() for n in names}
_QUOTES = "\"'“”‘’「」『』《》【】"


def find_title(text: str) -> str:
    """'月度销冠' / 'Top Sales' -> 'top_sales'; any other title -> as typed (quotes taken off)."""
    words = " ".join(parsing._nfkc(text).strip().strip(_QUOTES).split())
    return _BY_TITLE.get(words.casefold(), words)


def parse_honour(text: str, ctx: Ctx) -> ConfirmHonour:
    example = "honor.example"
    if not text:
        raise UsageError("honor.person_required", example=example)
    mentions, leftover = parsing.take_mentions(text)
    if len(mentions) > 1:
        raise UsageError("honor.one_person", example=example)
    if not mentions:
        first, _, leftover = text.partition(" ")
        mentions = [parsing.Mention(None, first, first)]
        leftover = leftover.strip()
    title_text, period = _split_period(leftover, ctx)
    if period is None:
        period = parsing.previous(parsing.period_of("month", ctx.now, ctx.tz), ctx.tz)
    if period.kind == "day":
        raise UsageError("honor.bad_period_kind", example=example)
    if period.start > ctx.now:
        raise UsageError("honor.future_period", period=period.label, example=example)
    title = find_title(title_text)
    if not title:
        raise UsageError("honor.title_required", example=example)
    if len(title) > MAX_TITLE:
        raise UsageError("honor.title_too_long", max=MAX_TITLE, example=example)
    return ConfirmHonour(who=mentions[0], title=title, period=period)


_PERIODISH = re.compile(r"\d|月|季|年|week|month|quarter|year|周", re.IGNORECASE)


def _split_period(text: str, ctx: Ctx) -> tuple[str, parsing.Period | None]:
    """'月度销冠 2026-11' -> ('月度销冠', November); the period is the last one to three words."""
    words = text.split()
    for n in (3, 2, 1):
        if len(words) < n:
            continue
        tail = " ".join(words[-n:])
        if not _PERIODISH.search(tail):
            continue
        try:
            return " ".join(words[:-n]), parsing.parse_period(tail, ctx.now, ctx.tz)
        except UsageError:
            continue
    return text, None


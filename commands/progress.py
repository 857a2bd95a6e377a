"""/progress (进展): log what you did with metric values, raise blockers, list and undo."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy import text as sql_text

from commands.core import fmt, form_values, paging, parsing, router, suggest
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.form_values import FieldError, flat
from commands.core.forms import FeatureForm, labelled
from commands.core.keywords import keyword
from commands.core.metrics import metric_name, metric_options, names_of, resolve, team_metrics
from commands.core.people import member_named, mention, require_member, resolve_member
from commands.core.reply import Actions, Button, Choice, Reply, Table, Text
from commands.i18n import t
from commands.kudos.incentive import celebrate
from storage.customer_queries import COMPUTED
from storage.models import Metric, ProgressEntry, ProgressValue
from storage.prepared import Prepared, insert_columns
from storage.queries import team_goal_of
from storage.types import UTCDateTime
from storage.uow import UnitOfWork

MAX_NOTE = 2000
LIST_LIMIT = 30
UNDO_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class LogProgress:
    note: str
    values: tuple[tuple[str, parsing.Amount], ...]
    blocker: bool = False


@dataclass(frozen=True)
class ListProgress:
    who: parsing.Mention | None
    period: parsing.Period
    page: int = 1  # `page N` (commands/core/paging.py): LIST_LIMIT entries a page, a More button for the next


@dataclass(frozen=True)
class UndoProgress:
    pass


KEYWORDS = {
    "list": ("list", "ls", "列表", "查看", "记录"),
    # 撤消 is how many people spell 撤销.
    "undo": ("undo", "撤销", "撤消", "撤回"),
}
BLOCKER_PREFIXES = ("blocker:", "blocked:", "阻塞:", "问题:", "卡点:")


def parse(text: str, ctx: Ctx):
    if not text:
        raise UsageError("progress.empty")
    head, _, rest = text.partition(" ")
    kw = keyword(head, KEYWORDS)
    if kw == "undo":
        if rest.strip():
            raise UsageError("progress.unexpected_text", text=rest.strip(), example="progress.example_undo")
        return UndoProgress()
    if kw == "list":
        page, rest = paging.take_page(rest.strip(), "progress.example_list")
        mentions, leftover = parsing.take_mentions(rest.strip())
        if len(mentions) > 1:
            raise UsageError("progress.one_person", example="progress.example_list")
        if not mentions and leftover:
            # A member named without @ ('/进展 列表 李雷 上周'): the first word, when the rest is a period.
            first, _, after = leftover.partition(" ")
            if not parsing.is_period(leftover, ctx.now, ctx.tz) and (not after or parsing.is_period(after, ctx.now, ctx.tz)):
                mentions, leftover = [parsing.Mention(None, first, first)], after.strip()
        period = (parsing.parse_period(leftover, ctx.now, ctx.tz) if leftover
                  else parsing.period_of("week", ctx.now, ctx.tz))
        return ListProgress(who=mentions[0] if mentions else None, period=period, page=page)
    if not rest.strip() and kw is None:
        typo = _keyword_typo(head)
        if typo is not None:
            raise UsageError("core.did_you_mean_keyword", example=f"progress.example_{keyword(typo, KEYWORDS)}",
                             word=head, command="/" + router.command_word(ctx.inv.command), keyword=typo)

    lowered = text.casefold()
    for prefix in BLOCKER_PREFIXES:
        if lowered.startswith(prefix):
            note = text[len(prefix):].strip()
            if not note:
                raise UsageError("progress.blocker_empty", example="progress.example_blocker")
            _check_length(note)
            return LogProgress(note=note, values=(), blocker=True)

    note, pairs = parsing.split_pairs(text)
    values = tuple((name, parsing.parse_amount(raw)) for name, raw in pairs)
    if not note and not values:
        raise UsageError("progress.empty")
    _check_length(note)
    return LogProgress(note=note, values=values)


def _keyword_typo(word: str) -> str | None:
    """A one-word note that is a slip of a keyword (撤俏, lsit, udno) rather than news: two swapped
    letters, one missing or extra, or (in Chinese) a second character mistyped. A real word one
    letter from a keyword ('lost' for 'list') stays a note."""
    guess = suggest.closest(word, [a for names in KEYWORDS.values() for a in names])
    if guess is None or suggest.distance(word, guess) != 1:
        return None
    if not word.isascii():
        return guess if len(word) == len(guess) and word[0] == guess[0] else None
    if len(word) == len(guess) and sorted(word.casefold()) != sorted(guess.casefold()):
        return None
    return guess


def _check_length(note: str) -> None:
    if len(note) > MAX_NOTE:
        raise UsageError("progress.too_long", max=MAX_NOTE)


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    if isinstance(req, LogProgress):
        return _log(uow, req, ctx)
    if isinstance(req, UndoProgress):
        return _undo(uow.session, ctx)
    return _list(uow.session, req, ctx)


def _log(uow: UnitOfWork, req: LogProgress, ctx: Ctx) -> Reply:
    """The hot path (bench/run.py): prebuilt Core statements, no ORM."""
    lang = ctx.lang
    # Plain rows (id, code, names, unit, aliases): resolve() and metric_name() only read those
    # attributes, so no Metric objects need to be built here.
    hidden = not req.blocker and _HAS_NUMBER.search(req.note or "") is not None
    metrics = [] if not (req.values or hidden) else (
        ctx.metrics if ctx.metrics is not None else uow.read_all(_METRIC_ROWS, {"team": ctx.team_id}))
    if hidden:
        _refuse_values_in_note(req.note, metrics)
    resolved: list[tuple[Metric, float]] = []
    seen: set[int] = set()
    for name, amount in req.values:
        m = resolve(metrics, name, lang)
        if m.code in COMPUTED:
            raise UsageError("progress.computed_metric", metric=metric_name(m, lang))
        if m.id in seen:
            raise UsageError("progress.metric_twice", metric=metric_name(m, lang))
        seen.add(m.id)
        if amount.percent and m.unit != "%":
            raise UsageError("progress.percent_not_allowed", metric=metric_name(m, lang))
        if m.unit == "%" and not 0 <= amount.value <= 100:
            raise UsageError("progress.percent_range", metric=metric_name(m, lang))
        if m.unit == "count" and not float(amount.value).is_integer():
            raise UsageError("progress.count_whole", metric=metric_name(m, lang), value=fmt.number(amount.value))
        resolved.append((m, amount.value))
    _insert(uow, ctx, req, resolved)
    # A team goal these values meet is announced in the channel now, with this entry (团队激励).
    celebrate(uow, ctx, [m for m, _ in resolved])
    if req.blocker:
        text = t(lang, "progress.blocker_logged", note=req.note)
    else:
        echoed = " · ".join(f"{metric_name(m, lang)} {fmt.amount(v, m.unit, lang)}" for m, v in resolved)
        text = t(lang, "progress.logged", note=req.note or "—",
                 values=echoed or t(lang, "progress.no_values"))
    # The button undoes the clicker's latest entry (what `/progress undo` does), so the reply needs
    # no entry id: the insert's result is not waited for (UnitOfWork.write).
    undo = Button(label=t(lang, "progress.undo_button"), action_id="progress.undo", value="",
                  command="/progress undo")
    return Reply(parts=(Text(text), Actions((undo,))), summary=text.split("\n")[0])


def _insert(uow: UnitOfWork, ctx: Ctx, req: LogProgress, resolved: list[tuple[Metric, float]]) -> None:
    """The entry and its values: on PostgreSQL one statement (one round trip, no result needed);
    SQLite, which has no INSERT in a WITH, takes the entry's id from the first insert."""
    entry = {"team_id": ctx.team_id, "user_id": ctx.actor.user_id, "note": req.note, "is_blocker": req.blocker,
             "created_at": ctx.now}
    if uow.dialect.name == "postgresql":
        uow.write(_INSERT_ENTRY_AND_VALUES, {**entry, "metric_ids": [m.id for m, _ in resolved],
                                             "values": [value for _, value in resolved]})
        return
    conn = uow.connection
    entry_id = _INSERT_ENTRY.first(conn, entry).id
    if resolved:
        _INSERT_VALUE.executemany(conn, [{"entry_id": entry_id, "team_id": ctx.team_id, "metric_id": m.id,
                                          "user_id": ctx.actor.user_id, "value": value, "created_at": ctx.now}
                                         for m, value in resolved])


#: A note with a number in it may hold a metric value typed without "=".
_HAS_NUMBER = re.compile(r"[0-9０-９]|[一二两三四五六七八九十][十百千万亿]")
#: What makes a number plainly an amount of something: a multiplier, a currency or a percent sign.
_STRONG = re.compile(r"[万亿%％¥￥元块kKmMwW]")


def _refuse_values_in_note(note: str, metrics) -> None:
    """A metric name followed by a value without "=" (`销售额 5万`, `销售额5万`, `visits 3`) is a value
    the user meant to record: refuse it by name rather than keep it as words of the note. A number
    that is just part of a sentence (`拜访 3 家客户`, `销售2部`) stays in the note."""
    names = sorted(((n.casefold(), n) for m in metrics for n in names_of(m)), key=lambda x: -len(x[0]))
    words = note.split()
    for i, word in enumerate(words):
        low = parsing._nfkc(word).casefold().rstrip(":")
        after = words[i + 1] if i + 1 < len(words) else None
        last = after is None or i + 2 == len(words)
        if after is not None and any(low == n for n, _ in names) and parsing.is_amount(after) \
                and (last or _STRONG.search(after)):
            raise UsageError("progress.pair_needs_equals", part=f"{word} {after}", fixed=f"{word}={after}")
        for n, _ in names:
            rest = low[len(n):]
            if low.startswith(n) and rest and parsing.is_amount(rest) and (after is None or _STRONG.search(rest)):
                raise UsageError("progress.pair_needs_equals", part=word,
                                 fixed=f"{word[:len(word) - len(rest)]}={word[len(word) - len(rest):]}")


# Built once: on the hot path, building a statement costs more than running it.
_INSERT_ENTRY = Prepared(insert_columns(ProgressEntry.__table__, "team_id", "user_id", "note", "is_blocker",
                                        "created_at").returning(ProgressEntry.__table__.c.id))
_INSERT_VALUE = Prepared(insert_columns(ProgressValue.__table__, "entry_id", "team_id", "metric_id", "user_id",
                                        "value", "created_at"))
_INSERT_ENTRY_AND_VALUES = Prepared(
    sql_text("WITH entry AS (INSERT INTO progress_entry (team_id, user_id, note, is_blocker, created_at) "
             "VALUES (:team_id, :user_id, :note, :is_blocker, :created_at) RETURNING id) "
             "INSERT INTO progress_value (entry_id, team_id, metric_id, user_id, value, created_at) "
             "SELECT entry.id, :team_id, v.metric_id, :user_id, v.value, :created_at FROM entry, "
             "unnest(CAST(:metric_ids AS INTEGER[]), CAST(:values AS FLOAT8[])) AS v(metric_id, value)")
    .bindparams(bindparam("created_at", type_=UTCDateTime())))
_METRIC_ROWS = Prepared(select(Metric.id, Metric.code, Metric.name_zh, Metric.name_en, Metric.unit, Metric.aliases,
                               team_goal_of(Metric))
                        .where(Metric.team_id == bindparam("team")).order_by(Metric.id))


def _undo(session, ctx: Ctx) -> Reply:
    lang = ctx.lang
    entry = session.scalars(select(ProgressEntry)
                      .where(ProgressEntry.team_id == ctx.team_id, ProgressEntry.user_id == ctx.actor.user_id)
                      .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())).first()
    if entry is None:
        raise UsageError("progress.nothing_to_undo", example="-")
    if ctx.now - entry.created_at > UNDO_WINDOW:
        raise Refused("progress.undo_too_old", when=fmt.when(entry.created_at, ctx.tz, lang), example="-")
    session.execute(delete(ProgressValue).where(ProgressValue.entry_id == entry.id))
    session.delete(entry)
    return Reply.text(t(lang, "progress.undone", note=entry.note or "—",
                        when=fmt.when(entry.created_at, ctx.tz, lang)))


def _list(session, req: ListProgress, ctx: Ctx) -> Reply:
    lang = ctx.lang
    q = (select(ProgressEntry)
         .where(ProgressEntry.team_id == ctx.team_id,
                ProgressEntry.created_at >= req.period.start, ProgressEntry.created_at < req.period.end)
         .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc()))
    who_label = ""
    if req.who is not None:
        if not req.who.user_id and req.who.raw == req.who.name and member_named(session, ctx.team_id, req.who.raw) is None:
            # A word that was neither a period nor, it turns out, a member's name.
            raise UsageError("progress.not_person_or_period", value=req.who.raw, example="progress.example_list")
        user_id = resolve_member(session, ctx, req.who).user_id
        q = q.where(ProgressEntry.user_id == user_id)
        who_label = mention(user_id)
    start = paging.offset(req.page, LIST_LIMIT)
    entries = list(session.scalars(q.offset(start).limit(LIST_LIMIT + 1)))
    period = fmt.period_label(req.period, lang)
    if not entries and req.page > 1:
        total = session.scalar(select(func.count()).select_from(q.subquery()))
        if total:
            return Reply.text(paging.past_end(lang, req.page, total, LIST_LIMIT))
    if not entries:
        return Reply.text(t(lang, "progress.list_empty", period=" ".join(x for x in (period, who_label) if x)))
    shown = entries[:LIST_LIMIT]
    metrics = {m.id: m for m in team_metrics(session, ctx.team_id)}
    values: dict[int, list[str]] = {}
    for v in session.scalars(select(ProgressValue).where(ProgressValue.entry_id.in_([e.id for e in shown]))
                       .order_by(ProgressValue.id)):
        m = metrics[v.metric_id]
        values.setdefault(v.entry_id, []).append(f"{metric_name(m, lang)} {fmt.amount(v.value, m.unit, lang)}")
    rows = []
    for e in shown:
        note = ("🚧 " if e.is_blocker else "") + (e.note or "—")
        rows.append((e.created_at.astimezone(ctx.tz).strftime("%m-%d %H:%M"), mention(e.user_id),
                     note, " · ".join(values.get(e.id, []))))
    header = tuple(t(lang, f"progress.col_{c}") for c in ("when", "who", "note", "values"))
    title = t(lang, "progress.list_title", period=" ".join(x for x in (period, who_label) if x),
              count=len(shown))
    parts = [Text(title), Table(header, tuple(rows))]
    if len(entries) > LIST_LIMIT:
        total = session.scalar(select(func.count()).select_from(q.subquery()))
        parts.append(Text(t(lang, "progress.list_more", limit=LIST_LIMIT)))
        # The same list one page on; the period by its canonical label (2026-W48), so it doesn't drift.
        command = " ".join(x for x in ("/progress list", who_label, req.period.label) if x)
        parts.append(paging.more_button(lang, command, req.page, start + len(shown), total, "progress.more"))
    return Reply(parts=tuple(parts), summary=title)


# -- the form: kind, note, one metric and amount, more values -> `/progress <note> metric=amount ...` --


def _form_fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    kinds = (Choice("progress", t(lang, "progress.form.kind_progress")),
             Choice("blocker", t(lang, "progress.form.kind_blocker")))
    return (
        labelled(lang, "progress", "kind", "select", options=kinds, initial="progress"),
        labelled(lang, "progress", "note", "multiline", required=False, max_length=MAX_NOTE),
        labelled(lang, "progress", "metric", "select", required=False,
                 options=metric_options(session, teams, lang)),
        labelled(lang, "progress", "amount", "amount", required=False, max_length=40),
        labelled(lang, "progress", "more", "text", required=False, max_length=300),
    )


def _compose(v: dict[str, str]) -> str:
    note = flat(v.get("note"))
    metric, how_much, more = v.get("metric", ""), v.get("amount", ""), flat(v.get("more"))
    if v.get("kind") == "blocker":
        if metric or how_much or more:
            raise FieldError("metric" if metric else "amount" if how_much else "more",
                             "progress.blocker_no_values")
        if not note:
            raise FieldError("note", "progress.blocker_empty")
        return f"/progress blocker: {note}"
    if metric and not how_much:
        raise FieldError("amount", "progress.amount_required")
    if how_much and not metric:
        raise FieldError("metric", "progress.metric_required")
    words = [note]
    if metric:
        words.append(f"{metric}={form_values.amount('amount', how_much)}")
    words.append(more)
    body = " ".join(x for x in words if x)
    if not body:
        raise FieldError("note", "progress.empty")
    return f"/progress {body}"


FORM = FeatureForm("progress", _form_fields, _compose, {
    **dict.fromkeys(("progress.unknown_metric", "progress.metric_twice", "progress.percent_not_allowed",
                     "progress.metric_required", "progress.blocker_no_values"), "metric"),
    **dict.fromkeys(("parse.bad_amount", "progress.percent_range", "progress.amount_required"), "amount"),
    **dict.fromkeys(("progress.empty", "progress.too_long", "progress.blocker_empty", "parse.bad_period",
                     "progress.unexpected_text"), "note"),
})

"""Forms: a bare /task, /progress, /resource or /goal opens one instead of asking for exact syntax.

A form is data (commands.core.reply.Form): fields of a few neutral kinds (user and channel pickers, date
and time pickers, selects built from the team's own data, amounts, text). Slack shows it as a modal;
every other platform shows its usage card (the field list and one example), a Text part of the
same Reply. Submitting never takes a path of its own: `compose()` turns the values into exactly the
command a person would type, and the adapter runs that through Dispatcher.handle() as the
submitting user, so parsing, permissions, dedupe and the outbox are the typed command's.

    reply = forms.form_reply("task", session, ctx)      # Text(card) + Form
    text = forms.compose("task", {"assignee": "U2", "title": "拜访ACME", "due_date": "2026-12-04"})
    # -> "/task add <@U2> 拜访ACME due 2026-12-04"
    forms.field_for_error("task", "parse.past_date", ["assignee", "title", "due_date", ...]) -> "due_date"

compose() raises FieldError (a UsageError naming its field) for what only a form can get wrong
(a metric picked without an amount, an amount that is not a number); everything else is found by
the command's own parser, and field_for_error() says which field its error is about.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from commands.core import parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.metrics import is_computed, metric_name, team_metrics
from commands.core.people import require_member
from commands.core.reply import Choice, Form, FormField, Reply, Text
from commands.i18n import has, t
from commands.resources import TYPES, type_name
from storage.models import Member, Metric, Team

#: Route name -> form id: the commands whose bare form opens a form.
FORMS = ("task", "progress", "resource", "goal")
#: A prompt completes a command that needs one more piece of text (a reason to reject).
PROMPT = "prompt"
CHANNEL = "channel"
#: Refusals that only mean "this command needs one more piece of text" (a reason, feedback): a
#: platform with forms may ask for it with prompt() instead of answering with the error.
NEEDS_TEXT = frozenset({"resources.reason_required", "resources.feedback_required"})
MAX_OPTIONS = 100  # Slack: options per static select
MAX_TITLE, MAX_NOTE, MAX_PURPOSE, MAX_TEXT = 200, 2000, 300, 2000
_SELF = "me"


class FieldError(UsageError):
    """A submitted value the form itself can tell is wrong; `field` names the input it is about."""

    def __init__(self, field: str, key: str, **args):
        super().__init__(key, example="-", **args)
        self.field = field


def has_form(route_name: str) -> bool:
    return route_name in FORMS


# -- building -------------------------------------------------------------------------------------


def form_reply(route_name: str, session, ctx: Ctx) -> Reply:
    """What a bare command answers: the usage card (for platforms without forms) and the form."""
    form = build(route_name, session, ctx)
    lang = ctx.lang
    text = card(form, lang)
    return Reply(parts=(Text(text), form), private=True, ok=False, summary=text.split("\n", 1)[0])


def build(route_name: str, session, ctx: Ctx) -> Form:
    teams = _teams(session, ctx)
    builder = {"task": _task_form, "progress": _progress_form, "resource": _resource_form,
               "goal": _goal_form}[route_name]
    fields = list(builder(session, ctx, teams))
    channel = _channel_field(ctx, teams)
    if channel is not None:
        fields.append(channel)
    lang = ctx.lang
    return Form(form_id=route_name, title=t(lang, f"forms.{route_name}_heading"),
                submit=t(lang, f"forms.{route_name}_submit"), fields=tuple(fields))


def _teams(session, ctx: Ctx) -> list[Team]:
    """The team the command is for; for someone in several teams writing from outside them (a DM,
    the Home tab), each of their teams (the form then asks which one, by its channel)."""
    if ctx.team_id is not None:
        require_member(ctx)
        return [ctx.team]
    teams = list(session.scalars(select(Team).join(Member, Member.team_id == Team.id)
                           .where(Team.platform == ctx.actor.platform, Member.user_id == ctx.actor.user_id)
                           .order_by(Team.id)))
    if not teams:
        require_member(ctx)  # raises: no team here
    return teams


def _channel_field(ctx: Ctx, teams: list[Team]) -> FormField | None:
    """Which team (by its channel) the command runs in, asked only when opened outside it."""
    if len(teams) == 1 and ctx.inv.channel == teams[0].channel_id:
        return None
    initial = teams[0].channel_id if len(teams) == 1 else ""
    return FormField(CHANNEL, "channel", t(ctx.lang, "forms.channel"), initial=initial,
                     hint=t(ctx.lang, "forms.channel_hint"))


def _metrics(session, teams: list[Team]) -> list[Metric]:
    seen: dict[str, Metric] = {}
    for team in teams:
        for m in team_metrics(session, team.id):
            if not is_computed(m):
                seen.setdefault(m.code, m)
    return list(seen.values())


def _metric_options(session, teams: list[Team], lang: str) -> tuple[Choice, ...]:
    unit = {"CNY": "¥", "count": "#", "%": "%"}
    return tuple(Choice(m.code, f"{metric_name(m, lang)} ({unit.get(m.unit, m.unit)})")
                 for m in _metrics(session, teams))[:MAX_OPTIONS]


def _f(lang: str, form: str, name: str, kind: str, **kw) -> FormField:
    """A field whose label (and, when the catalog has them, hint and placeholder) come from forms.toml."""
    hint = t(lang, f"forms.{form}_{name}_hint") if has(lang, f"forms.{form}_{name}_hint") else ""
    ph = t(lang, f"forms.{form}_{name}_placeholder") if has(lang, f"forms.{form}_{name}_placeholder") else ""
    return FormField(name, kind, t(lang, f"forms.{form}_{name}"), hint=kw.pop("hint", hint),
                     placeholder=kw.pop("placeholder", ph), **kw)


def _task_form(session, ctx: Ctx, teams):
    lang = ctx.lang
    tomorrow = (ctx.local_now + timedelta(days=1)).date().isoformat()
    return (
        _f(lang, "task", "assignee", "user", initial=ctx.actor.user_id),
        _f(lang, "task", "title", "text", max_length=MAX_TITLE),
        _f(lang, "task", "due_date", "date", initial=tomorrow),
        _f(lang, "task", "due_time", "time", required=False, initial="18:00"),
        _f(lang, "task", "note", "multiline", required=False, max_length=MAX_NOTE),
    )


def _progress_form(session, ctx: Ctx, teams):
    lang = ctx.lang
    kinds = (Choice("progress", t(lang, "forms.progress_kind_progress")),
             Choice("blocker", t(lang, "forms.progress_kind_blocker")))
    return (
        _f(lang, "progress", "kind", "select", options=kinds, initial="progress"),
        _f(lang, "progress", "note", "multiline", required=False, max_length=MAX_NOTE),
        _f(lang, "progress", "metric", "select", required=False, options=_metric_options(session, teams, lang)),
        _f(lang, "progress", "amount", "amount", required=False, max_length=40),
        _f(lang, "progress", "more", "text", required=False, max_length=300),
    )


def _resource_form(session, ctx: Ctx, teams):
    lang = ctx.lang
    types = tuple(Choice(code, type_name(code, lang)) for code in TYPES)
    return (
        _f(lang, "resource", "type", "select", options=types),
        _f(lang, "resource", "amount", "amount", max_length=40),
        _f(lang, "resource", "purpose", "text", max_length=MAX_PURPOSE),
        _f(lang, "resource", "needed_by", "date", required=False),
    )


def _goal_form(session, ctx: Ctx, teams):
    lang = ctx.lang
    now, tz = ctx.now, ctx.tz
    periods: list[Choice] = []
    for kind in ("month", "quarter", "year"):
        this = parsing.period_of(kind, now, tz)
        nxt = parsing.period_of(kind, this.end, tz)
        periods.append(Choice(this.label, t(lang, f"forms.period_this_{kind}", label=this.label)))
        periods.append(Choice(nxt.label, t(lang, f"forms.period_next_{kind}", label=nxt.label)))
    for word in ("weekly", "monthly", "quarterly", "yearly"):
        periods.append(Choice(word, t(lang, f"forms.period_{word}")))
    scopes = (Choice(_SELF, t(lang, "forms.goal_scope_me")), Choice("team", t(lang, "forms.goal_scope_team")))
    return (
        _f(lang, "goal", "metric", "select", options=_metric_options(session, teams, lang)),
        _f(lang, "goal", "target", "amount", max_length=40),
        _f(lang, "goal", "period", "select", required=False, options=tuple(periods)),
        _f(lang, "goal", "deadline", "date", required=False),
        _f(lang, "goal", "scope", "select", options=scopes, initial=_SELF),
        _f(lang, "goal", "member", "user", required=False),
    )


def card(form: Form, lang: str) -> str:
    """The usage card: what to type after the command, field by field, and one example."""
    lines = [t(lang, f"forms.{form.form_id}_intro"), t(lang, f"forms.{form.form_id}_usage")]
    for f in form.fields:
        if f.name == CHANNEL:
            continue
        about = f.hint or f.placeholder or ", ".join(o.label for o in f.options[:6])
        optional = t(lang, "forms.optional") if not f.required else ""
        lines.append(f"• {f.label}{optional}" + (f": {about}" if about else ""))
    lines.append(t(lang, "core.example_label"))
    lines.append(t(lang, f"forms.{form.form_id}_example"))
    return "⚠️ " + "\n".join(lines)


def prefill(form: Form, values: dict[str, str]) -> Form:
    """The form with initial values set (cut to each field's length) for the fields named."""
    fields = []
    for f in form.fields:
        if f.name in values and values[f.name] is not None:
            v = str(values[f.name])
            if f.max_length and len(v) > f.max_length:
                v = v[: f.max_length - 3] + "..."  # not "…", which NFKC turns into three dots
            f = replace(f, initial=v)
        fields.append(f)
    return replace(form, fields=tuple(fields))


def prompt(command: str, *, title: str, label: str, submit: str) -> Form:
    """A one-field form completing `command` (e.g. "/resource reject 7") with the text typed."""
    return Form(form_id=PROMPT, title=title, submit=submit, state=command.strip(),
                fields=(FormField("text", "multiline", label, max_length=MAX_TEXT),))


# -- submitting -----------------------------------------------------------------------------------


def _flat(v: str | None) -> str:
    """One line: a title or purpose typed with line breaks reads the same as typed on one line."""
    return " ".join((v or "").split())


def _who(v: str) -> str:
    v = (v or "").strip()
    if not v:
        return ""
    return v if v.startswith(("<@", "@")) else f"<@{v}>"


def _amount(field: str, v: str) -> str:
    """The amount as one word ("50 万" -> "50万"), checked the way the command will read it."""
    compact = "".join((v or "").split())
    try:
        parsing.parse_amount(compact)
    except UsageError as e:
        raise FieldError(field, e.key, **e.args_) from None
    return compact


def _required(values: dict, field: str) -> str:
    v = (values.get(field) or "").strip()
    if not v:
        raise FieldError(field, "forms.required")
    return v


def compose(form_id: str, values: dict[str, str], state: str = "") -> str:
    """The submitted values as the command a person would type ("/task add <@U2> ... due ...")."""
    v = {k: (x or "").strip() if isinstance(x, str) else "" for k, x in (values or {}).items()}
    if form_id == "task":
        title = _flat(_required(v, "title"))
        due = " ".join(x for x in (_required(v, "due_date"), v.get("due_time", "")) if x)
        text = " ".join(x for x in ("/task add", _who(v.get("assignee", "")), title, "due", due) if x)
        if v.get("note"):
            text += " note " + v["note"]
        return text
    if form_id == "progress":
        note = _flat(v.get("note"))
        metric, amount, more = v.get("metric", ""), v.get("amount", ""), _flat(v.get("more"))
        if v.get("kind") == "blocker":
            if metric or amount or more:
                raise FieldError("metric" if metric else "amount" if amount else "more",
                                 "forms.blocker_no_values")
            if not note:
                raise FieldError("note", "progress.blocker_empty")
            return f"/progress blocker: {note}"
        if metric and not amount:
            raise FieldError("amount", "forms.amount_required")
        if amount and not metric:
            raise FieldError("metric", "forms.metric_required")
        words = [note]
        if metric:
            words.append(f"{metric}={_amount('amount', amount)}")
        words.append(more)
        body = " ".join(x for x in words if x)
        if not body:
            raise FieldError("note", "progress.empty")
        return f"/progress {body}"
    if form_id == "resource":
        rtype = _required(v, "type")
        amount = _amount("amount", _required(v, "amount"))
        purpose = _flat(_required(v, "purpose"))
        text = f"/resource request {rtype} {amount} for {purpose}"
        if v.get("needed_by"):
            text += f" by {v['needed_by']}"
        return text
    if form_id == "goal":
        metric = _required(v, "metric")
        target = _amount("target", _required(v, "target"))
        period, deadline = v.get("period", ""), v.get("deadline", "")
        if period and deadline:
            raise FieldError("deadline", "forms.period_or_deadline")
        when = period or (f"by {deadline}" if deadline else "")
        member = v.get("member", "")
        if v.get("scope") == "team":
            if member:
                raise FieldError("member", "goals.team_or_person")
            scope = "for team"
        else:
            # "for me" said outright: a manager's goal without `for` is a question, not a default.
            scope = f"for {_who(member)}" if member else "for me"
        return " ".join(x for x in ("/goal set", metric, target, when, scope) if x)
    if form_id == PROMPT:
        if not state.strip():
            raise FieldError("text", "forms.required")
        return f"{state.strip()} {_required(v, 'text')}"
    raise FieldError("", "forms.unknown_form", form=form_id)


def channel_of(values: dict[str, str]) -> str:
    """The team channel picked in the form, if it asked for one."""
    return ((values or {}).get(CHANNEL) or "").strip()


# -- errors -> fields ------------------------------------------------------------------------------

_DATE_ERRORS = ("parse.bad_date", "parse.past_date", "parse.ambiguous_time")
_TEAM_ERRORS = ("core.no_team", "core.not_member")
ERROR_FIELDS: dict[str, dict[str, str]] = {
    "task": {
        **dict.fromkeys(_DATE_ERRORS + ("tasks.due_required",), "due_date"),
        **dict.fromkeys(("tasks.title_required", "tasks.title_too_long"), "title"),
        "tasks.note_too_long": "note",
        **dict.fromkeys(("tasks.assignee_not_member", "tasks.assign_others_refused", "tasks.one_assignee",
                         "core.unknown_person"), "assignee"),
    },
    "progress": {
        **dict.fromkeys(("progress.unknown_metric", "progress.metric_twice", "progress.percent_not_allowed",
                         "forms.metric_required", "forms.blocker_no_values"), "metric"),
        **dict.fromkeys(("parse.bad_amount", "progress.percent_range", "forms.amount_required"), "amount"),
        **dict.fromkeys(("progress.empty", "progress.too_long", "progress.blocker_empty", "parse.bad_period",
                         "progress.unexpected_text"), "note"),
    },
    "resource": {
        **dict.fromkeys(("resources.unknown_type", "resources.type_required"), "type"),
        **dict.fromkeys(("parse.bad_amount", "resources.amount_positive", "resources.amount_whole",
                         "resources.amount_too_big", "resources.amount_required"), "amount"),
        **dict.fromkeys(("resources.purpose_required", "resources.purpose_too_long"), "purpose"),
        **dict.fromkeys(_DATE_ERRORS + ("resources.date_required",), "needed_by"),
    },
    "goal": {
        # Metric and target are required and checked by compose(), so "not SMART" means no time.
        "goals.not_smart": "period",
        **dict.fromkeys(("parse.bad_amount", "goals.target_positive", "goals.percent_not_allowed",
                         "goals.percent_range", "goals.relative_no_base", "goals.relative_needs_period"),
                        "target"),
        **dict.fromkeys(("goals.period_over", "parse.bad_period"), "period"),
        **dict.fromkeys(_DATE_ERRORS + ("goals.deadline_date_required",), "deadline"),
        "goals.exists": "metric",
        "goals.team_needs_manager": "scope",
        **dict.fromkeys(("goals.others_need_manager", "goals.not_a_member", "goals.team_or_person",
                         "goals.one_person", "core.unknown_person"), "member"),
    },
}


def field_for_error(form_id: str, key: str, fields: list[str]) -> str:
    """The field a refusal is about (a bad date -> the due date), else the first field; always one
    of `fields`, the inputs the form shows."""
    if not fields:
        return ""
    name = ERROR_FIELDS.get(form_id, {}).get(key or "")
    if name is None and key in _TEAM_ERRORS:
        name = CHANNEL
    if name in fields:
        return name
    return fields[0]

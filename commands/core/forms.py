"""Forms: a bare command with a form (/task, /progress, /resource, /goal) opens it, not a syntax error.

A form is data (commands.core.reply.Form); Slack shows it as a modal, other platforms its usage card.
Submitting takes no path of its own: compose() turns the values into the command a person would type,
run through Dispatcher.handle() as the submitting user.

A feature declares its form as FORM = FeatureForm(...) next to its parse/run, its router line says
`form=True`, and its labels sit in its own catalog's [form] table (heading, submit, intro, usage,
example, home, and per field <name>, <name>_hint, <name>_placeholder). This module keeps the rest:

    reply = forms.form_reply("task", session, ctx)      # Text(card) + Form
    forms.compose("task", {"assignee": "U2", "title": "拜访ACME", "due_date": "2026-12-04"})
    # -> "/task add <@U2> 拜访ACME due 2026-12-04"; field_for_error() says which field a refusal is about
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from commands.core import router
from commands.core.context import Ctx
from commands.core.form_values import FieldError, required
from commands.core.people import require_member
from commands.core.reply import Form, FormField, Reply, Text
from commands.i18n import has, t
from storage.models import Member, Team

#: A prompt completes a command that needs one more piece of text (a reason to reject).
PROMPT = "prompt"
CHANNEL, MAX_TEXT = "channel", 2000
#: Refusals about a date, for a feature's error map.
DATE_ERRORS = ("parse.bad_date", "parse.past_date", "parse.ambiguous_time")
_TEAM_ERRORS = ("core.no_team", "core.not_member")


@dataclass(frozen=True)
class FeatureForm:
    """A command's form, declared by its feature as FORM (see the module docstring)."""
    #: The feature's catalog (`tasks` for /task): labels are `<catalog>.form.<name>`.
    catalog: str
    #: (session, ctx, teams) -> the fields, in order (the team channel is added when needed).
    fields: Callable[..., tuple[FormField, ...]]
    #: The submitted values (stripped strings) -> the command a person would type.
    compose: Callable[[dict[str, str]], str]
    #: A refusal's key -> the field it is about (else the first field).
    errors: Mapping[str, str] = field(default_factory=dict)
    #: Refusals that only mean "this command needs one more piece of text" (a reason, feedback): a
    #: platform with forms may ask for it with prompt() instead of answering with the error.
    needs_text: frozenset[str] = frozenset()
    #: A quick action on the Home tab (label `<catalog>.form.home`); `primary` ones come first.
    home: bool = True
    primary: bool = False
    #: What after the command opens it when the bare command has an answer of its own ("confirm": a bare
    #: /assess shows the sheet, `/assess confirm` alone opens the form); "": the bare command opens it.
    opened_by: str = ""


def feature_form(form_id: str) -> FeatureForm | None:
    return router.feature_forms().get(form_id)  # the router collects the features' FORMs


def has_form(route_name: str) -> bool:
    route = router.named(route_name)
    return route is not None and route.form and not feature_form(route_name).opened_by


def home_entries() -> list[tuple[str, FeatureForm]]:
    """(route name, form) of the forms with a Home quick action, primary ones first."""
    return sorted(((n, f) for n, f in router.feature_forms().items() if f.home), key=lambda e: not e[1].primary)


def needs_text(key: str | None) -> bool:
    return bool(key) and any(key in f.needs_text for f in router.feature_forms().values())


# -- building -------------------------------------------------------------------------------------


def form_reply(route_name: str, session, ctx: Ctx) -> Reply:
    """What a bare command answers: the usage card (for platforms without forms) and the form."""
    form = build(route_name, session, ctx)
    text = card(form, ctx.lang)
    return Reply(parts=(Text(text), form), private=True, ok=False, summary=text.split("\n", 1)[0])


def build(route_name: str, session, ctx: Ctx) -> Form:
    spec = feature_form(route_name)
    teams = _teams(session, ctx)
    fields = list(spec.fields(session, ctx, teams))
    channel = _channel_field(ctx, teams)
    if channel is not None:
        fields.append(channel)
    return Form(form_id=route_name, title=t(ctx.lang, f"{spec.catalog}.form.heading"),
                submit=t(ctx.lang, f"{spec.catalog}.form.submit"), fields=tuple(fields))


def _teams(session, ctx: Ctx) -> list[Team]:
    """The team the command is for; for someone in several teams writing from outside them (a DM,
    the Home tab), each of their teams (the form then asks which one, by its channel)."""
    if ctx.team_id is not None:
        require_member(ctx)
        return [ctx.team]
    teams = list(session.scalars(select(Team).join(Member, Member.team_id == Team.id)
                                 .where(Team.platform == ctx.actor.platform,
                                        Member.user_id == ctx.actor.user_id)
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


def labelled(lang: str, catalog: str, name: str, kind: str, **kw) -> FormField:
    """A field whose label (and, when the catalog has them, hint and placeholder) come from the
    feature's catalog: `<catalog>.form.<name>`, `..._hint`, `..._placeholder`."""
    key = f"{catalog}.form.{name}"
    hint = t(lang, f"{key}_hint") if has(lang, f"{key}_hint") else ""
    ph = t(lang, f"{key}_placeholder") if has(lang, f"{key}_placeholder") else ""
    return FormField(name, kind, t(lang, key), hint=kw.pop("hint", hint), placeholder=kw.pop("placeholder", ph),
                     **kw)


def card(form: Form, lang: str) -> str:
    """The usage card: what to type after the command, field by field, and one example."""
    key = f"{feature_form(form.form_id).catalog}.form"
    lines = [t(lang, f"{key}.intro"), t(lang, f"{key}.usage")]
    for f in form.fields:
        if f.name == CHANNEL:
            continue
        about = f.hint or f.placeholder or ", ".join(o.label for o in f.options[:6])
        optional = t(lang, "forms.optional") if not f.required else ""
        lines.append(f"• {f.label}{optional}" + (f": {about}" if about else ""))
    lines.append(t(lang, "core.example_label"))
    lines.append(t(lang, f"{key}.example"))
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


def compose(form_id: str, values: dict[str, str], state: str = "") -> str:
    """The submitted values as the command a person would type ("/task add <@U2> ... due ...")."""
    v = {k: (x or "").strip() if isinstance(x, str) else "" for k, x in (values or {}).items()}
    if form_id == PROMPT:
        if not state.strip():
            raise FieldError("text", "forms.required")
        return f"{state.strip()} {required(v, 'text')}"
    spec = feature_form(form_id)
    if spec is None:
        raise FieldError("", "forms.unknown_form", form=form_id)
    return spec.compose(v)


def channel_of(values: dict[str, str]) -> str:
    """The team channel picked in the form, if it asked for one."""
    return ((values or {}).get(CHANNEL) or "").strip()


def field_for_error(form_id: str, key: str, fields: list[str]) -> str:
    """The field a refusal is about (a bad date -> the due date), else the first field; always one
    of `fields`, the inputs the form shows."""
    if not fields:
        return ""
    spec = feature_form(form_id) if form_id != PROMPT else None
    name = spec.errors.get(key or "") if spec is not None else None
    if name is None and key in _TEAM_ERRORS:
        name = CHANNEL
    if name in fields:
        return name
    return fields[0]

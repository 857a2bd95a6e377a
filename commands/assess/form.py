"""The confirm form (`/assess confirm` with nothing after it): member, period, an optional score and
comment -> `/assess confirm <period> <@member> [score=<n>] [comment]`, the typed command, so the
permission and every check are the typed command's. A bare /assess shows the sheet, not this form
(opened_by="confirm"); an objection's reason, and the score of a member with nothing to score
(a Confirm button from the overview), are asked for in a one-field prompt (needs_text)."""
from __future__ import annotations

from commands.core import parsing
from commands.core.context import Ctx
from commands.core.form_values import flat, required, who
from commands.core.forms import FeatureForm, labelled
from commands.core.reply import Choice
from commands.i18n import t

CATALOG = "assess"


def fields(session, ctx: Ctx, teams):
    lang, now, tz = ctx.lang, ctx.now, ctx.tz
    kinds = {"manager": ("month",), "performance_admin": ("quarter", "year")}.get(ctx.role or "",
                                                                                   ("month", "quarter", "year"))
    choices = []
    for kind in kinds:
        this = parsing.period_of(kind, now, tz)
        last = parsing.previous(this, tz)
        choices.append(Choice(last.label, t(lang, f"assess.form.period_last_{kind}", label=last.label)))
        choices.append(Choice(this.label, t(lang, f"assess.form.period_this_{kind}", label=this.label)))
    return (
        labelled(lang, CATALOG, "member", "user"),
        labelled(lang, CATALOG, "period", "select", options=tuple(choices), initial=choices[0].value),
        labelled(lang, CATALOG, "score", "number", required=False, max_length=6),
        labelled(lang, CATALOG, "comment", "text", required=False, max_length=500),
    )


def compose(v: dict[str, str]) -> str:
    words = ["/assess confirm", required(v, "period"), who(required(v, "member"))]
    score = "".join((v.get("score") or "").split())
    if score:
        words.append(f"score={score}")
    comment = flat(v.get("comment"))
    if comment:
        words.append(comment)
    return " ".join(words)


ERRORS = {
    **dict.fromkeys(("assess.not_person", "assess.not_yourself", "core.not_a_member", "core.unknown_person",
                     "assess.nothing_to_score", "assess.person_required"), "member"),
    **dict.fromkeys(("assess.period_kind", "assess.future_period", "assess.confirm_month_role",
                     "assess.confirm_quarter_role", "assess.confirm_year_role", "assess.bad_period",
                     "assess.period_required"), "period"),
    "assess.bad_score": "score",
    "assess.too_long": "comment",
}

FORM = FeatureForm(CATALOG, fields, compose, ERRORS, needs_text=frozenset({"assess.reason_required", "assess.nothing_to_score"}),
                   home=False, opened_by="confirm")

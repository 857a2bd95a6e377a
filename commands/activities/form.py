"""The /activity form: name, day, budget -> `/activity add <name> <day> [budget=<n>]`."""
from __future__ import annotations

from commands.activities.parse import MAX_NAME
from commands.core.context import Ctx
from commands.core.form_values import amount, flat, required
from commands.core.forms import DATE_ERRORS, FeatureForm, labelled


def fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    return (
        labelled(lang, "activities", "name", "text", max_length=MAX_NAME),
        labelled(lang, "activities", "day", "date"),
        labelled(lang, "activities", "budget", "amount", required=False, max_length=40),
    )


def compose(v: dict[str, str]) -> str:
    text = f"/activity add {flat(required(v, 'name'))} {required(v, 'day')}"
    if v.get("budget"):
        text += f" budget={amount('budget', v['budget'])}"
    return text


ERRORS = {
    **dict.fromkeys(("activities.name_required", "activities.name_too_long", "activities.add_empty"), "name"),
    **dict.fromkeys(DATE_ERRORS + ("activities.date_required",), "day"),
    **dict.fromkeys(("activities.bad_count", "activities.too_big", "parse.bad_amount"), "budget"),
}

FORM = FeatureForm("activities", fields, compose, ERRORS, home=False)  # marketing's, not everyone's

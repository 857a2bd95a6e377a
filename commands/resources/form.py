"""The /resource form: type, amount, purpose, needed-by -> `/resource request <type> <amount> for <purpose> [by ...]`.
A rejection's reason and a feedback are asked for in a one-field prompt (needs_text)."""
from __future__ import annotations

from commands.core.context import Ctx
from commands.core.form_values import amount, flat, required
from commands.core.forms import DATE_ERRORS, FeatureForm, labelled
from commands.core.reply import Choice
from commands.resources.types import MAX_PURPOSE, TYPES, type_name


def fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    types = tuple(Choice(code, type_name(code, lang)) for code in TYPES)
    return (
        labelled(lang, "resources", "type", "select", options=types),
        labelled(lang, "resources", "amount", "amount", max_length=40),
        labelled(lang, "resources", "purpose", "text", max_length=MAX_PURPOSE),
        labelled(lang, "resources", "needed_by", "date", required=False),
    )


def compose(v: dict[str, str]) -> str:
    rtype = required(v, "type")
    how_much = amount("amount", required(v, "amount"))
    purpose = flat(required(v, "purpose"))
    text = f"/resource request {rtype} {how_much} for {purpose}"
    if v.get("needed_by"):
        text += f" by {v['needed_by']}"
    return text


ERRORS = {
    **dict.fromkeys(("resources.unknown_type", "resources.type_required"), "type"),
    **dict.fromkeys(("parse.bad_amount", "resources.amount_positive", "resources.amount_whole",
                     "resources.amount_too_big", "resources.amount_required"), "amount"),
    **dict.fromkeys(("resources.purpose_required", "resources.purpose_too_long"), "purpose"),
    **dict.fromkeys(DATE_ERRORS + ("resources.date_required",), "needed_by"),
}

FORM = FeatureForm("resources", fields, compose, ERRORS,
                   needs_text=frozenset({"resources.reason_required", "resources.feedback_required"}))

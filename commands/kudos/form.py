"""The /kudos form: whom and why -> `/kudos <@U2> <reason>`."""
from __future__ import annotations

from commands.core.context import Ctx
from commands.core.form_values import flat, required, who
from commands.core.forms import FeatureForm, labelled
from commands.kudos.parse import MAX_REASON


def fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    return (
        labelled(lang, "kudos", "receiver", "user"),
        labelled(lang, "kudos", "reason", "multiline", max_length=MAX_REASON),
    )


def compose(v: dict[str, str]) -> str:
    return f"/kudos {who(required(v, 'receiver'))} {flat(required(v, 'reason'))}"


ERRORS = {
    **dict.fromkeys(("kudos.person_required", "kudos.self", "kudos.not_in_team", "kudos.too_many",
                     "core.unknown_person"), "receiver"),
    **dict.fromkeys(("kudos.reason_required", "kudos.reason_too_long"), "reason"),
}

FORM = FeatureForm("kudos", fields, compose, ERRORS)

"""The /customer and /followup forms (a bare command opens them; a Slack modal, a usage card elsewhere).

    customer: name, phone, contact, stage, source -> `/customer add <name> phone=… contact=… stage=… source=…`
    followup: customer (a pick of the caller's customers), how, note, next date
              -> `/followup <id> <how> <note> [next <date>]`
A follow-up button without its text (`/followup 12`) is completed in a one-field prompt (needs_text).
"""
from __future__ import annotations

from sqlalchemy import select

from commands.core.context import Ctx
from commands.core.form_values import flat, required
from commands.core.forms import DATE_ERRORS, FeatureForm, labelled
from commands.core.reply import Choice
from commands.customers.access import SEES_ALL
from commands.customers.parse import MAX_FIELD, MAX_NAME
from commands.customers.stages import HOWS, OPEN_STAGES, how_name, stage_name
from storage.models import Customer

MAX_OPTIONS = 100  # Slack: options per static select
MAX_NOTE = 2000


def customer_fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    stages = tuple(Choice(code, stage_name(code, lang)) for code in (*OPEN_STAGES, "won"))
    return (
        labelled(lang, "customers", "name", "text", max_length=MAX_NAME),
        labelled(lang, "customers", "phone", "text", required=False, max_length=40),
        labelled(lang, "customers", "contact", "text", required=False, max_length=MAX_FIELD),
        labelled(lang, "customers", "stage", "select", options=stages, initial="lead"),
        labelled(lang, "customers", "source", "text", required=False, max_length=MAX_FIELD),
    )


def customer_compose(v: dict[str, str]) -> str:
    words = ["/customer add", flat(required(v, "name"))]
    for key in ("phone", "contact", "stage", "source"):
        if v.get(key):
            words.append(f"{key}={flat(v[key])}")
    return " ".join(words)


CUSTOMER_ERRORS = {
    **dict.fromkeys(("customers.name_required", "customers.name_too_long", "customers.name_is_person",
                     "customers.duplicate"), "name"),
    "customers.bad_phone": "phone",
    **dict.fromkeys(("customers.bad_stage", "customers.add_lost"), "stage"),
}


def followup_fields(session, ctx: Ctx, teams):
    """The customer is picked from the caller's own (the whole team's owned ones for a manager or an
    account manager), those longest without a follow-up first; typed when there are none yet."""
    lang = ctx.lang
    q = select(Customer).where(Customer.team_id.in_([team.id for team in teams]))
    q = q.where(Customer.owner_id.is_not(None)) if ctx.role in SEES_ALL else \
        q.where(Customer.owner_id == ctx.actor.user_id)
    mine = tuple(Choice(str(c.id), f"#{c.id} {c.name}"[:75])
                 for c in session.scalars(q.order_by(Customer.active_at, Customer.id).limit(MAX_OPTIONS)))
    customer = (labelled(lang, "followup", "customer", "select", options=mine) if mine
                else labelled(lang, "followup", "customer", "text", max_length=MAX_NAME))
    hows = tuple(Choice(code, how_name(code, lang)) for code in HOWS)
    return (
        customer,
        labelled(lang, "followup", "how", "select", options=hows, initial="call"),
        labelled(lang, "followup", "note", "multiline", max_length=MAX_NOTE),
        labelled(lang, "followup", "next_on", "date", required=False),
    )


def followup_compose(v: dict[str, str]) -> str:
    text = f"/followup {flat(required(v, 'customer'))} {required(v, 'how')} {flat(required(v, 'note'))}"
    if v.get("next_on"):
        text += f" next {v['next_on']}"
    return text


FOLLOWUP_ERRORS = {
    **dict.fromkeys(("customers.not_found_id", "customers.not_found_name", "customers.ambiguous",
                     "customers.in_pool_claim_first", "customers.refused_followup"), "customer"),
    "followup.how_required": "how",
    **dict.fromkeys(("followup.note_required", "followup.note_too_long"), "note"),
    **dict.fromkeys(DATE_ERRORS + ("followup.next_date_required",), "next_on"),
}

CUSTOMER_FORM = FeatureForm("customers", customer_fields, customer_compose, CUSTOMER_ERRORS)
FOLLOWUP_FORM = FeatureForm("followup", followup_fields, followup_compose, FOLLOWUP_ERRORS,
                            needs_text=frozenset({"followup.details_required"}))

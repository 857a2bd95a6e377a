"""A customer's card, its buttons, and the DMs a customer command causes."""
from __future__ import annotations

from sqlalchemy import select

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.people import recipient_prefs
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Text
from commands.customers import access
from commands.customers.stages import CLOSED, stage_name
from commands.i18n import t
from storage.models import Customer, Member


def money(value: float, lang: str) -> str:
    return fmt.amount(value, "CNY", lang)


def card(c: Customer, ctx: Ctx, lang: str, tz=None, viewer: tuple[str, str | None] | None = None) -> Fields:
    """Owner, stage, deal size, phone (masked unless the reader is the owner or the manager), contact,
    source, last follow-up and when it goes back to the pool."""
    tz = tz or ctx.tz
    pairs = [(t(lang, "customers.label_owner"), access.holder(c, lang)),
             (t(lang, "customers.label_stage"), stage_name(c.stage, lang))]
    if c.amount is not None:
        pairs.append((t(lang, "customers.label_amount"), money(c.amount, lang)))
    if c.phone:
        pairs.append((t(lang, "customers.label_phone"), access.phone_for(c, ctx, viewer)))
    if c.contact:
        pairs.append((t(lang, "customers.label_contact"), c.contact))
    if c.source:
        pairs.append((t(lang, "customers.label_source"), c.source))
    if c.stage == "lost" and c.lost_reason:
        pairs.append((t(lang, "customers.label_lost_reason"), c.lost_reason))
    last = fmt.when(c.last_followup_at, tz, lang) if c.last_followup_at else t(lang, "customers.never")
    pairs.append((t(lang, "customers.label_last_followup"), last))
    team = ctx.team
    if c.owner_id is not None and c.stage not in CLOSED and team is not None:
        from commands.customers.pool import return_on
        pairs.append((t(lang, "customers.label_returns"), fmt.day(return_on(c.active_at, team, tz), lang)))
    return Fields(tuple(pairs))


def customer_buttons(c: Customer, ctx: Ctx, lang: str) -> Actions | None:
    """Log a follow-up and release for whoever may do them; claim for a pool customer."""
    buttons = []
    if c.owner_id is None:
        buttons.append(Button(t(lang, "customers.button_claim"), "customer.claim", str(c.id),
                              command=f"/customer claim {c.id}", style="primary"))
    else:
        if access.may("followup", c, ctx):
            buttons.append(Button(t(lang, "customers.button_followup"), "customer.followup", str(c.id),
                                  command=f"/followup {c.id}", style="primary"))
        if access.may("release", c, ctx) and c.stage != "won":
            buttons.append(Button(t(lang, "customers.button_release"), "customer.release", str(c.id),
                                  command=f"/customer release {c.id}"))
    return Actions(tuple(buttons)) if buttons else None


def dm(session, ctx: Ctx, user_id: str, key: str, c: Customer | None, **args) -> None:
    """A DM to a member in their own language: `key` with the customer (if any) and its card."""
    prefs = recipient_prefs(session, ctx.team, {user_id})
    lang, tz = prefs.lang(user_id), prefs.tz(user_id)
    args = {k: (t(lang, v[1:]) if isinstance(v, str) and v.startswith("@customers.") else v)
            for k, v in args.items()}
    if c is not None:
        args.setdefault("id", c.id)
        args.setdefault("name", c.name)
    head = t(lang, key, team=ctx.team.name, **args)
    parts: list = [Text(head)]
    if c is not None:
        # The recipient reads the card as what they are: the owner or the manager (phone shown), or not.
        role = session.scalar(select(Member.role).where(Member.team_id == ctx.team_id, Member.user_id == user_id))
        parts.append(card(c, ctx, lang, tz, viewer=(user_id, role)))
    ctx.send(Outgoing(destination=f"user:{user_id}", reply=Reply(parts=tuple(parts), private=False, summary=head)))

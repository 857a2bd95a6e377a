"""Who may see and do what with a customer, finding the customer a command names, and 查重.

    | action              | owner | manager | account_manager | other member |
    |---------------------|-------|---------|-----------------|--------------|
    | see (list, show)    | yes   | yes     | yes             | own + pool   |
    | phone number        | yes   | yes     | masked          | masked       |
    | followup            | yes   | yes     | yes             | no (claim it first if in the pool) |
    | stage, rename       | yes   | yes     | no              | no           |
    | edit (phone, contact, source) | yes | yes | yes          | no           |
    | release             | yes   | yes     | no              | no           |
    | claim (pool only)   | -     | yes     | yes             | yes          |
    | transfer            | no    | yes     | no              | no           |
    | add for someone else (owner=@x) | - | yes | no        | no           |
"""
from __future__ import annotations

from sqlalchemy import or_, select

from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import mention
from commands.customers.names import name_key
from commands.customers.parse import MAX_ID, Ref
from commands.i18n import t
from storage.models import Customer

MANAGER, ACCOUNT_MANAGER = "manager", "account_manager"
SEES_ALL = frozenset({MANAGER, ACCOUNT_MANAGER})
RULES: dict[str, frozenset[str]] = {
    "followup": frozenset({"owner", MANAGER, ACCOUNT_MANAGER}),
    "stage": frozenset({"owner", MANAGER}),
    "rename": frozenset({"owner", MANAGER}),
    "edit": frozenset({"owner", MANAGER, ACCOUNT_MANAGER}),
    "release": frozenset({"owner", MANAGER}),
    "transfer": frozenset({MANAGER}),
}
MAX_CANDIDATES = 8


def sees_all(ctx: Ctx) -> bool:
    return ctx.role in SEES_ALL


def positions(c: Customer, ctx: Ctx) -> frozenset[str]:
    out = {ctx.role} if ctx.role else set()
    if c.owner_id is not None and c.owner_id == ctx.actor.user_id:
        out.add("owner")
    return frozenset(out)


def may(action: str, c: Customer, ctx: Ctx) -> bool:
    return bool(RULES[action] & positions(c, ctx))


def may_see(c: Customer, ctx: Ctx) -> bool:
    return sees_all(ctx) or c.owner_id is None or c.owner_id == ctx.actor.user_id


def sees_phone(c: Customer, ctx: Ctx, viewer: tuple[str, str | None] | None = None) -> bool:
    """viewer: (user id, role) of who reads it, when not the caller (a DM's recipient)."""
    user_id, role = viewer or (ctx.actor.user_id, ctx.role)
    return role == MANAGER or (c.owner_id is not None and c.owner_id == user_id)


def mask(phone: str | None) -> str:
    """138••••1111 (not *, which is markup): enough to tell two numbers apart, not enough to call."""
    if not phone:
        return ""
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    keep = set(digits[:3] + digits[-4:]) if len(digits) >= 9 else set(digits[:2] + digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "•" for i, ch in enumerate(phone))


def phone_for(c: Customer, ctx: Ctx, viewer: tuple[str, str | None] | None = None) -> str:
    return (c.phone or "") if sees_phone(c, ctx, viewer) else mask(c.phone)


def holder(c: Customer, lang: str) -> str:
    """'@li' or '公海' / 'the pool'."""
    return mention(c.owner_id) if c.owner_id else t(lang, "customers.in_pool")


def refuse(action: str, c: Customer, ctx: Ctx) -> None:
    if may(action, c, ctx):
        return
    if c.owner_id is None and action in ("followup", "stage", "rename", "release", "edit"):
        raise Refused("customers.in_pool_claim_first", id=c.id, name=c.name, example="customers.example_claim")
    raise Refused(f"customers.refused_{action}", id=c.id, name=c.name, owner=holder(c, ctx.lang), example="-")


# -- finding the customer a command names ----------------------------------------------------------


def find(session, ctx: Ctx, ref: Ref, *, lock: bool = False) -> Customer:
    """The customer `ref` names in the caller's team: by id, else the one whose name holds the text."""
    q = select(Customer).where(Customer.team_id == ctx.team_id)
    if lock:
        q = q.with_for_update()
    if ref.id is not None:
        c = session.scalars(q.where(Customer.id == ref.id)).first() if 0 < ref.id <= MAX_ID else None
        if c is None:
            raise UsageError("customers.not_found_id", id=ref.id, example="customers.example_list")
        return c
    key = name_key(ref.text)
    exact = session.scalars(q.where(Customer.name_key == key)).first()
    if exact is not None:
        return exact
    found = list(session.scalars(q.where(or_(Customer.name_key.contains(key, autoescape=True),
                                       Customer.name.contains(ref.text, autoescape=True)))
                           .order_by(Customer.id).limit(MAX_CANDIDATES + 1)))
    if not found:
        raise UsageError("customers.not_found_name", text=ref.text, example="customers.example_list")
    if len(found) > 1:
        # For a rep, a name part that fits only one customer they can see (theirs or the pool's) means it.
        visible = [c for c in found if may_see(c, ctx)]
        if not sees_all(ctx) and len(visible) == 1 and len(found) <= MAX_CANDIDATES:
            return visible[0]
        shown = "\n".join(f"• #{c.id} {c.name}（{holder(c, ctx.lang)}）" if ctx.lang == "zh"
                          else f"• #{c.id} {c.name} ({holder(c, ctx.lang)})" for c in found[:MAX_CANDIDATES])
        more = "\n…" if len(found) > MAX_CANDIDATES else ""
        raise UsageError("customers.ambiguous", text=ref.text, candidates=shown + more, id=found[0].id,
                         example="-")
    return found[0]


# -- 查重 -------------------------------------------------------------------------------------------


def duplicate(session, team_id: int, key: str | None, phone_key: str | None, *, besides: int | None = None):
    """-> (the existing customer, "name" | "phone") or None. key None: the phone only."""
    q = select(Customer).where(Customer.team_id == team_id)
    if besides is not None:
        q = q.where(Customer.id != besides)
    c = session.scalars(q.where(Customer.name_key == key)).first() if key else None
    if c is not None:
        return c, "name"
    if phone_key:
        c = session.scalars(q.where(Customer.phone_key == phone_key)).first()
        if c is not None:
            return c, "phone"
    return None


def duplicate_refusal(c: Customer, why: str, ctx: Ctx, typed_name: str, typed_phone: str | None) -> Refused:
    """Refused naming the existing customer and its owner or the pool, and what to do instead."""
    lang, me = ctx.lang, ctx.actor.user_id
    if c.owner_id is None:
        hint = t(lang, "customers.dup_hint_pool", id=c.id)
    elif c.owner_id == me:
        hint = t(lang, "customers.dup_hint_mine", id=c.id)
    else:
        hint = t(lang, "customers.dup_hint_owner", id=c.id, owner=mention(c.owner_id))
    what = (t(lang, "customers.dup_same_name", typed=typed_name) if why == "name"
            else t(lang, "customers.dup_same_phone", phone=typed_phone or ""))
    return Refused("customers.duplicate", what=what, id=c.id, name=c.name, holder=holder(c, lang), hint=hint,
                   example="-")

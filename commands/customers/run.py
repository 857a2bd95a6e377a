"""Running a /customer request: add, stage, rename, claim, release, transfer (list and show: show.py)."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import NAME_IS_ID, mention, require_member, resolve_member
from commands.core.reply import Reply, Text
from commands.core.roles import require_manager
from commands.customers import access, pool
from commands.customers.names import name_key, phone_key
from commands.customers.notify import card, customer_buttons, dm, money
from commands.customers.parse import (
    POOL,
    AddCustomer,
    CLEAR_WORDS,
    ClaimCustomer,
    EditCustomer,
    ListCustomers,
    ReleaseCustomer,
    RenameCustomer,
    SetStage,
    ShowCustomer,
    TransferCustomers,
)
from commands.customers.show import list_customers, show_customer
from commands.customers.stages import CLOSED, stage_name
from commands.i18n import t
from commands.kudos.incentive import celebrate_records
from storage.models import Customer, CustomerStageChange, FollowUp, Task
from storage.uow import UnitOfWork


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example("customers.example") from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    from commands import team_rules

    if isinstance(req, (team_rules.ShowRules, team_rules.SetRules)):
        return team_rules.run(req, uow, ctx)  # `/customer rules` is `/team rules`
    session = uow.session
    require_member(ctx)
    handler = {AddCustomer: _add, ListCustomers: list_customers, ShowCustomer: show_customer,
               SetStage: _stage, RenameCustomer: _rename, EditCustomer: _edit, ClaimCustomer: _claim,
               ReleaseCustomer: _release,
               TransferCustomers: _transfer}[type(req)]
    return handler(session, req, ctx)


def _member_id(session, ctx: Ctx, who) -> str:
    try:
        return resolve_member(session, ctx, who).user_id
    except UsageError as e:
        raise UsageError("customers.not_a_member", who=e.args_.get("who", ""), team=ctx.team.name,
                         example="-").suggesting(e.suggestion) from None


def _owner(session, req: AddCustomer, ctx: Ctx) -> str | None:
    if req.owner == POOL:
        return None
    if req.owner is None:
        return ctx.actor.user_id
    owner = _member_id(session, ctx, req.owner)
    if owner != ctx.actor.user_id and ctx.role != access.MANAGER:
        raise Refused("customers.add_for_others_refused", example="customers.example_add")
    return owner


def _insert(session, c: Customer, ctx: Ctx, typed_name: str, typed_phone: str | None) -> None:
    """Write the customer, or refuse it as a duplicate: also when another add of it (or a rename to
    it) committed between our check and our write, which only the UNIQUE keys can see."""
    try:
        with session.begin_nested():
            session.add(c)
            session.flush()
    except IntegrityError:
        found = access.duplicate(session, ctx.team_id, c.name_key, c.phone_key, besides=c.id)
        if found is None:
            raise
        raise access.duplicate_refusal(*found, ctx, typed_name, typed_phone) from None


def _add(session, req: AddCustomer, ctx: Ctx) -> Reply:
    lang, now, me = ctx.lang, ctx.now, ctx.actor.user_id
    owner = _owner(session, req, ctx)
    key, pkey = name_key(req.name), phone_key(req.phone)
    found = access.duplicate(session, ctx.team_id, key, pkey)
    if found is not None:
        raise access.duplicate_refusal(*found, ctx, req.name, req.phone)
    c = Customer(team_id=ctx.team_id, name=req.name, name_key=key, phone=req.phone, phone_key=pkey,
                 contact=req.contact, source=req.source, stage=req.stage, amount=req.amount, owner_id=owner,
                 created_by=me, created_at=now, stage_changed_at=now, active_at=now, updated_at=now)
    _insert(session, c, ctx, req.name, req.phone)
    session.add(CustomerStageChange(customer_id=c.id, team_id=ctx.team_id, from_stage=None, to_stage=c.stage,
                              amount=c.amount, owner_id=owner, by=me, at=now))
    celebrate_records(session, ctx)  # a team goal of qualified or won customers may be met now (团队激励)
    head = t(lang, "customers.added", id=c.id, name=c.name, holder=access.holder(c, lang),
             stage=stage_name(c.stage, lang))
    parts: list = [Text(head), card(c, ctx, lang)]
    if owner is not None and owner != me:
        dm(session, ctx, owner, "customers.dm_assigned", c, by=mention(me))
        parts.append(Text(t(lang, "customers.dm_sent", who=mention(owner))))
    buttons = customer_buttons(c, ctx, lang)
    if buttons is not None:
        parts.append(buttons)
    return Reply(parts=tuple(parts), summary=head)


def _touch(c: Customer, ctx: Ctx) -> None:
    c.updated_at, c.version = ctx.now, (c.version or 0) + 1


def _stage(session, req: SetStage, ctx: Ctx) -> Reply:
    lang, now = ctx.lang, ctx.now
    c = access.find(session, ctx, req.ref, lock=True)
    access.refuse("stage", c, ctx)
    if c.stage == req.stage and req.amount in (None, c.amount) and not (req.stage == "lost" and req.reason):
        return Reply.text(t(lang, "customers.stage_same", id=c.id, name=c.name, stage=stage_name(c.stage, lang)))
    old = c.stage
    session.add(CustomerStageChange(customer_id=c.id, team_id=c.team_id, from_stage=old, to_stage=req.stage,
                              amount=req.amount, owner_id=c.owner_id, by=ctx.actor.user_id, at=now,
                              reason=req.reason))
    if old != req.stage:
        c.stage_changed_at = now
    c.stage = req.stage
    if req.amount is not None:
        c.amount = req.amount
    c.lost_reason = req.reason if req.stage == "lost" else ""
    _touch(c, ctx)
    celebrate_records(session, ctx)  # a team goal of qualified or won customers may be met now (团队激励)
    key = {"won": "customers.moved_won", "lost": "customers.moved_lost"}.get(req.stage, "customers.moved")
    text = t(lang, key, id=c.id, name=c.name, old=stage_name(old, lang), new=stage_name(req.stage, lang),
             reason=req.reason)
    if c.amount is not None:
        text += "\n" + t(lang, "customers.deal_amount", amount=money(c.amount, lang))
    if c.owner_id and c.owner_id != ctx.actor.user_id:
        dm(session, ctx, c.owner_id, "customers.dm_stage", c, by=mention(ctx.actor.user_id),
           new="@customers.stage_" + req.stage)
    return Reply.text(text)


def _rename(session, req: RenameCustomer, ctx: Ctx) -> Reply:
    lang = ctx.lang
    c = access.find(session, ctx, req.ref, lock=True)
    access.refuse("rename", c, ctx)
    key = name_key(req.name)
    if req.name == c.name:
        return Reply.text(t(lang, "customers.rename_same", id=c.id, name=c.name))
    found = access.duplicate(session, ctx.team_id, key, None, besides=c.id)
    if found is not None:
        raise access.duplicate_refusal(*found, ctx, req.name, None)
    old = c.name
    c.name, c.name_key = req.name, key
    _touch(c, ctx)
    _insert(session, c, ctx, req.name, None)
    return Reply.text(t(lang, "customers.renamed", id=c.id, old=old, name=c.name))


def _edit(session, req: EditCustomer, ctx: Ctx) -> Reply:
    lang = ctx.lang
    c = access.find(session, ctx, req.ref, lock=True)
    access.refuse("edit", c, ctx)
    changed = []
    for name, value in req.fields:
        value = "" if value.casefold() in CLEAR_WORDS else value
        if name == "phone":
            key = phone_key(value) if value else None
            if key and key != c.phone_key:
                found = access.duplicate(session, ctx.team_id, None, key, besides=c.id)
                if found is not None:
                    raise access.duplicate_refusal(*found, ctx, c.name, value)
            c.phone, c.phone_key = value or None, key
        else:
            setattr(c, name, value)
        changed.append(t(lang, f"customers.label_{name}"))
    _touch(c, ctx)
    _insert(session, c, ctx, c.name, c.phone)
    head = t(lang, "customers.edited", id=c.id, name=c.name, fields="、".join(changed) if lang == "zh"
             else ", ".join(changed))
    return Reply(parts=(Text(head), card(c, ctx, lang)), summary=head)


def _open_owned(session, team_id: int, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Customer)
                    .where(Customer.team_id == team_id, Customer.owner_id == user_id,
                           Customer.stage.not_in(tuple(CLOSED)))) or 0


def _claim(session, req: ClaimCustomer, ctx: Ctx) -> Reply:
    lang, me, now, team = ctx.lang, ctx.actor.user_id, ctx.now, ctx.team
    c = access.find(session, ctx, req.ref, lock=True)
    if c.owner_id == me:
        return Reply.text(t(lang, "customers.claim_already_mine", id=c.id, name=c.name))
    if c.owner_id is not None:
        raise Refused("customers.claim_not_in_pool", id=c.id, name=c.name, owner=mention(c.owner_id),
                      example="-")
    until = pool.reclaim_until(c.released_at, team)
    if c.last_owner_id == me and until is not None and until > now:
        raise Refused("customers.claim_cooldown", id=c.id, name=c.name, days=team.reclaim_days,
                      when=fmt.when(until, ctx.tz, lang), example="-")
    owned = _open_owned(session, ctx.team_id, me)
    if owned >= team.claim_cap:
        raise Refused("customers.claim_cap", cap=team.claim_cap, owned=owned, example="customers.example_release")
    c.owner_id, c.active_at, c.pool_warned_at = me, now, None
    _touch(c, ctx)
    back = pool.return_on(now, team, ctx.tz)
    return Reply.text(t(lang, "customers.claimed", id=c.id, name=c.name, owned=owned + 1, cap=team.claim_cap,
                        days=team.pool_days, until=fmt.day(back, lang)))


def cancel_reminders(session, customer_ids: list[int]) -> int:
    """Pending follow-up reminders of these customers are cancelled (they went to the pool)."""
    if not customer_ids:
        return 0
    result = session.execute(update(FollowUp).where(FollowUp.customer_id.in_(customer_ids),
                                              FollowUp.next_state == "pending")
                       .values(next_state="cancelled").execution_options(synchronize_session=False))
    return result.rowcount or 0


def _release(session, req: ReleaseCustomer, ctx: Ctx) -> Reply:
    lang, now = ctx.lang, ctx.now
    c = access.find(session, ctx, req.ref, lock=True)
    if c.owner_id is None:
        return Reply.text(t(lang, "customers.release_already", id=c.id, name=c.name))
    access.refuse("release", c, ctx)
    if c.stage == "won":
        raise Refused("customers.release_won", id=c.id, name=c.name, example="-")
    owner = c.owner_id
    c.last_owner_id, c.owner_id, c.released_at, c.release_reason, c.pool_warned_at = owner, None, now, req.reason, None
    _touch(c, ctx)
    cancel_reminders(session, [c.id])
    text = t(lang, "customers.released", id=c.id, name=c.name, days=ctx.team.reclaim_days)
    if req.reason:
        text += "\n" + t(lang, "customers.release_reason", reason=req.reason)
    if owner != ctx.actor.user_id:
        dm(session, ctx, owner, "customers.dm_released", c, by=mention(ctx.actor.user_id), reason=req.reason or "—")
    return Reply.text(text)


def _transfer(session, req: TransferCustomers, ctx: Ctx) -> Reply:
    require_manager(ctx)
    lang, me = ctx.lang, ctx.actor.user_id
    target = _member_id(session, ctx, req.target)
    source = _source(session, ctx, req.source) if req.source is not None else None
    if req.ref is None:
        rows = list(session.scalars(select(Customer).where(Customer.team_id == ctx.team_id, Customer.owner_id == source)
                              .order_by(Customer.id).with_for_update()))
    else:
        c = access.find(session, ctx, req.ref, lock=True)
        if c.owner_id is None:
            raise Refused("customers.transfer_pool", id=c.id, name=c.name, example="customers.example_claim")
        if source is not None and c.owner_id != source:
            raise Refused("customers.transfer_not_theirs", id=c.id, name=c.name, who=mention(source),
                          owner=mention(c.owner_id), example="-")
        source, rows = c.owner_id, [c]
    if source == target:
        raise UsageError("customers.transfer_same", who=mention(target), example="customers.example_transfer")
    for c in rows:
        c.last_owner_id, c.owner_id, c.active_at, c.pool_warned_at = source, target, ctx.now, None
        _touch(c, ctx)
    session.flush()
    reminders = _pending(session, [c.id for c in rows])
    tasks = _move_tasks(session, ctx, source, target) if req.ref is None else 0
    args = dict(n=len(rows), source=mention(source), target=mention(target), reminders=reminders, tasks=tasks,
                names=_names(rows))
    if not rows and not tasks:
        return Reply.text(t(lang, "customers.transfer_nothing", source=mention(source)))
    for who, key in ((source, "customers.dm_transfer_from"), (target, "customers.dm_transfer_to")):
        if who != me:
            dm(session, ctx, who, key, None, by=mention(me), **args)
    return Reply.text(t(lang, "customers.transferred", **args))


def _source(session, ctx: Ctx, who) -> str:
    """Who hands over: a member, or someone who has left the team (/team remove) but still owns
    customers or tasks here, which is when a handover is needed most."""
    try:
        return _member_id(session, ctx, who)
    except UsageError:
        user_id = who.user_id or (who.name if ctx.actor.platform in NAME_IS_ID else None)
        if user_id is None:
            raise
        owns = session.scalar(select(func.count()).select_from(Customer)
                        .where(Customer.team_id == ctx.team_id, Customer.owner_id == user_id))
        tasks = session.scalar(select(func.count()).select_from(Task)
                         .where(Task.team_id == ctx.team_id, Task.assignee == user_id, Task.status == "open"))
        if not owns and not tasks:
            raise
        return user_id


def _names(rows: list[Customer]) -> str:
    shown = "、".join(f"#{c.id} {c.name}" for c in rows[:10])
    return shown + ("…" if len(rows) > 10 else "")


def _pending(session, ids: list[int]) -> int:
    if not ids:
        return 0
    return session.scalar(select(func.count()).select_from(FollowUp)
                    .where(FollowUp.customer_id.in_(ids), FollowUp.next_state == "pending")) or 0


def _move_tasks(session, ctx: Ctx, source: str, target: str) -> int:
    result = session.execute(update(Task).where(Task.team_id == ctx.team_id, Task.assignee == source,
                                          Task.status == "open")
                       .values(assignee=target, updated_at=ctx.now, snoozed_until=None)
                       .execution_options(synchronize_session=False))
    return result.rowcount or 0

"""Scheduled posts of the customer database (SPEC "/customer" and "Scheduled posts").

| kind           | default (team-local)                   | what                                              |
|----------------|----------------------------------------|---------------------------------------------------|
| followup_due   | 09:00 on working days                  | DM to the owner of each customer whose planned    |
|                |                                        | follow-up (`next_on`) is due that working day     |
| customer_pool  | 09:00 on working days                  | returns stale customers to the pool (公海) and     |
|                |                                        | warns owners `warn_days` working days before      |
| pool_digest    | Monday 09:00 (next working day if off) | team channel: what returned to the pool last week,|
|                |                                        | what is in it, how to claim                       |

Like every job (reminders/jobs.py) they work from the occurrence (run.day, run.fire_at), never from
the wall clock, and each message's dedupe key names what it is about and the day.

Exactly once. The scheduler claims (team, kind, slot) in the fire ledger and runs the job in the same
unit of work, so the release of customers, their history rows and the DMs commit together with the
claim or not at all: a second replica waits on the claim and then finds it taken; a restart finds the
ledger row. The release itself is also a conditional UPDATE (same version, still owned by the same
person), so even a second run could not release one customer twice. `followup_due` and `customer_pool`
use on_holiday "skip": there is no occurrence on a non-working day (国庆, weekends), so nothing is
released then; the first working day after releases what came due meanwhile.

The pool rule (commands/customers' pool rules, same arithmetic): a customer returns to the pool on
the local day active_at + pool_days (or the first working day after); its owner is warned warn_days
working days before that day. Won and lost customers and pool customers are never touched. Owners who
are away get no DM (the warning waits for their return if there is time; the release does not).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from commands.core import fmt
from commands.core.people import recipient_prefs
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Table, Text
from commands.i18n import t
from commands.kpi.funnel import stage_label
from reminders.jobs import JobRun, local_midnight

from storage.customer_queries import (
    CLOSED_STAGES,
    owned_open,
    release_cutoff,
    return_day,
    warn_cutoff,
    warn_day,
)
from storage.models import Customer, CustomerStageChange, FollowUp, Team

FOLLOWUP_KIND, POOL_KIND, DIGEST_KIND = "followup_due", "customer_pool", "pool_digest"
#: The release reason stored on the customer (a code; shown translated).
STALE = "stale"
#: Who the history row says moved it.
SCHEDULER = "teambot"
LIST_LIMIT = 10
#: Customers released per statement (well under SQLite's and PostgreSQL's parameter limits).
RELEASE_CHUNK = 500


# --- follow-up due ----------------------------------------------------------------------------------


def _last_notes(session: Session, customer_ids: list[int]) -> dict[int, FollowUp]:
    if not customer_ids:
        return {}
    latest = (select(FollowUp.customer_id, func.max(FollowUp.id).label("id"))
              .where(FollowUp.customer_id.in_(customer_ids)).group_by(FollowUp.customer_id).subquery())
    rows = session.scalars(select(FollowUp).join(latest, FollowUp.id == latest.c.id))
    return {f.customer_id: f for f in rows}


def followup_buttons(c: Customer, f: FollowUp, lang: str) -> Actions:
    return Actions((
        Button(label=t(lang, "pool.btn_log"), action_id="followup.log", value=str(c.id),
               command=f"/followup {c.id} ", style="primary"),
        Button(label=t(lang, "pool.btn_snooze"), action_id="followup.snooze", value=str(f.id),
               command=f"/followup snooze {c.id}"),
        Button(label=t(lang, "pool.btn_release"), action_id="customer.release", value=str(c.id),
               command=f"/customer release {c.id}", style="danger"),
    ))


def followup_due(session: Session, run: JobRun) -> list[Outgoing]:
    """09:00 on working days: a DM to the owner of each customer whose planned follow-up falls on
    this working day (a next date on a holiday or weekend counts on the first working day after)."""
    team, cal, day, tz = run.team, run.calendar, run.day, run.tz
    if not cal.is_workday(day):
        return []
    since = cal.previous_workday(day)
    rows = list(session.execute(
        select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.team_id == team.id, FollowUp.next_state == "pending", FollowUp.next_on > since,
               FollowUp.next_on <= day, Customer.owner_id.is_not(None))
        .order_by(FollowUp.next_on, FollowUp.id)).all())
    if not rows:
        return []
    people = recipient_prefs(session, team, {c.owner_id for _, c in rows})
    notes = _last_notes(session, sorted({c.id for _, c in rows}))
    out: list[Outgoing] = []
    for f, c in rows:
        owner = c.owner_id
        if people.away(owner, run.fire_at):
            continue
        lang, utz = people.lang(owner), people.tz(owner)
        last = notes.get(c.id, f)
        headline = t(lang, "pool.followup_due", id=c.id, name=c.name)
        pairs = [(t(lang, "pool.field_customer"), f"#{c.id} {c.name}"),
                 (t(lang, "pool.field_stage"), stage_label(c.stage, lang))]
        if c.contact:
            pairs.append((t(lang, "pool.field_contact"), c.contact))
        pairs.append((t(lang, "pool.field_last"), f"{fmt.when(last.at, utz, lang)} {last.note}"))
        if f.next_on != day:
            pairs.append((t(lang, "pool.field_planned"), fmt.day(f.next_on, lang)))
        reply = Reply(parts=(Text(headline), Fields(tuple(pairs)), followup_buttons(c, f, lang)),
                      private=False, summary=headline.replace("*", ""))
        out.append(Outgoing(destination=f"user:{owner}", reply=reply,
                            dedupe_key=f"followup:{f.id}:due:{day.isoformat()}",
                            meta={"kind": FOLLOWUP_KIND, "customer_id": c.id, "followup_id": f.id}))
    return out


# --- the pool: warn and release ---------------------------------------------------------------------


def release_due(session: Session, team: Team, cutoff: datetime, *, at: datetime, reason_text: str
                ) -> dict[str, list[Customer]]:
    """Return to the pool every owned open customer of `team` inactive since before `cutoff`, and cancel
    their pending follow-up reminders: one UPDATE per 500 customers that re-checks the rule itself (a
    follow-up, claim or transfer meanwhile moves active_at, a win closes it, so the row no longer
    matches), a history row each, one UPDATE for the reminders. -> {last owner: customers released}."""
    due = {c.id: c for c in session.scalars(owned_open(team.id).where(Customer.active_at < cutoff)
                                            .order_by(Customer.id))}
    conn = session.connection()
    gone: list[tuple[int, str, str, float | None]] = []
    ids = list(due)
    for i in range(0, len(ids), RELEASE_CHUNK):
        gone += conn.execute(
            update(Customer)
            .where(Customer.id.in_(ids[i:i + RELEASE_CHUNK]), Customer.owner_id.is_not(None),
                   Customer.stage.not_in(CLOSED_STAGES), Customer.active_at < cutoff)
            # SET's right-hand sides read the row as it was: last_owner_id gets the owner being removed.
            .values(owner_id=None, last_owner_id=Customer.owner_id, released_at=at, release_reason=STALE,
                    pool_warned_at=None, updated_at=at, version=Customer.version + 1)
            .returning(Customer.id, Customer.last_owner_id, Customer.stage, Customer.amount)).all()
    if not gone:
        return {}
    conn.execute(insert(CustomerStageChange), [
        {"customer_id": cid, "team_id": team.id, "from_stage": stage, "to_stage": stage, "amount": amount,
         "owner_id": owner, "by": SCHEDULER, "at": at, "reason": reason_text} for cid, owner, stage, amount in gone])
    done = [cid for cid, *_ in gone]
    for i in range(0, len(done), RELEASE_CHUNK):
        conn.execute(update(FollowUp).where(FollowUp.customer_id.in_(done[i:i + RELEASE_CHUNK]),
                                            FollowUp.next_state == "pending").values(next_state="cancelled"))
    released: dict[str, list[Customer]] = {}
    for cid, owner, _, _ in sorted(gone):
        c = due[cid]
        # What the UPDATE wrote, so the session agrees with the database without reading each row again.
        for key, value in (("owner_id", None), ("last_owner_id", owner), ("released_at", at), ("release_reason", STALE),
                           ("pool_warned_at", None), ("updated_at", at), ("version", c.version + 1)):
            set_committed_value(c, key, value)
        released.setdefault(owner, []).append(c)
    return released


def _names(rows: list[Customer]) -> str:
    shown = "、".join(f"#{c.id} {c.name}" for c in rows[:LIST_LIMIT])
    return shown + ("…" if len(rows) > LIST_LIMIT else "")


def customer_pool(session: Session, run: JobRun) -> list[Outgoing]:
    """09:00 on working days: release the customers whose return day has come, then warn the owners
    of those that return within warn_days working days. One DM per owner and day."""
    team, cal, day, tz = run.team, run.calendar, run.day, run.tz
    if not cal.is_workday(day) or team.pool_days <= 0:
        return []
    reason = t(team.lang or "zh", "pool.release_reason", days=team.pool_days)
    released = release_due(session, team, release_cutoff(team, day, tz), at=run.fire_at, reason_text=reason)
    soon = list(session.scalars(owned_open(team.id).where(Customer.active_at < warn_cutoff(team, day, tz, cal),
                                                           Customer.pool_warned_at.is_(None))
                                .order_by(Customer.active_at, Customer.id)))
    soon = [c for c in soon if warn_day(c.active_at, team, tz, cal) <= day]
    warned: dict[str, list[Customer]] = {}
    for c in soon:
        warned.setdefault(c.owner_id, []).append(c)
    people = recipient_prefs(session, team, set(released) | set(warned))
    out: list[Outgoing] = []
    for owner in sorted(set(released) | set(warned)):
        if people.away(owner, run.fire_at):
            continue
        lang = people.lang(owner)
        mine = warned.get(owner, [])
        for c in mine:
            c.pool_warned_at = run.fire_at
            session.add(c)
        out.append(_pool_dm(team, owner, lang, day, released.get(owner, []), mine, tz, cal))
    return out


def _pool_dm(team: Team, owner: str, lang: str, day: date, gone: list[Customer], soon: list[Customer],
             tz: ZoneInfo, cal) -> Outgoing:
    parts: list = []
    if gone:
        parts.append(Text(t(lang, "pool.dm_released", n=len(gone), days=team.pool_days, names=_names(gone),
                            reclaim=team.reclaim_days)))
    if soon:
        header = tuple(t(lang, "pool.soon_header").split(","))
        rows = tuple((f"#{c.id}", c.name, stage_label(c.stage, lang),
                      fmt.day(c.active_at.astimezone(tz).date(), lang),
                      fmt.day(cal.next_workday(max(return_day(c.active_at, team, tz), day)), lang))
                     for c in soon[:LIST_LIMIT * 2])
        parts += [Text(t(lang, "pool.dm_warning", n=len(soon), days=team.pool_days)), Table(header, rows),
                  Text(t(lang, "pool.dm_warning_hint", id=soon[0].id))]
    summary = (parts[0].text if parts else "").replace("*", "")
    return Outgoing(destination=f"user:{owner}", reply=Reply(parts=tuple(parts), private=False, summary=summary),
                    dedupe_key=f"pool:{team.id}:{owner}:{day.isoformat()}",
                    meta={"kind": POOL_KIND, "released": [c.id for c in gone], "warned": [c.id for c in soon]})


# --- the weekly pool digest -------------------------------------------------------------------------


def pool_digest(session: Session, run: JobRun) -> list[Outgoing]:
    """Monday 09:00 in the team channel: what returned to the pool in the seven days before the
    week began, what is in the pool now, and how to claim. Nothing when the pool is empty and
    nothing returned."""
    team, tz = run.team, run.tz
    lang = team.lang or "zh"
    week = run.slot_day - timedelta(days=run.slot_day.weekday())
    start, end = local_midnight(week - timedelta(days=7), tz), local_midnight(week, tz)
    pool = select(Customer).where(Customer.team_id == team.id, Customer.owner_id.is_(None))
    returned = list(session.scalars(pool.where(Customer.released_at >= start, Customer.released_at < end)
                                    .order_by(Customer.released_at, Customer.id)))
    total = session.scalar(select(func.count()).select_from(Customer)
                           .where(Customer.team_id == team.id, Customer.owner_id.is_(None))) or 0
    if not total and not returned:
        return []
    newest = list(session.scalars(pool.order_by(Customer.released_at.desc().nulls_last(), Customer.id.desc())
                                  .limit(LIST_LIMIT)))
    title = t(lang, "pool.digest_title", team=team.name, total=total)
    parts: list = [Text(title)]
    header = tuple(t(lang, "pool.digest_header").split(","))
    if returned:
        parts += [Text(t(lang, "pool.digest_returned", n=len(returned), since=fmt.day(week - timedelta(days=7), lang))),
                  Table(header, tuple(_digest_row(c, lang, tz) for c in returned[:LIST_LIMIT * 2]))]
    else:
        parts.append(Text(t(lang, "pool.digest_none_returned")))
    if newest:
        parts += [Text(t(lang, "pool.digest_in_pool", total=total, shown=len(newest))),
                  Table(header, tuple(_digest_row(c, lang, tz) for c in newest))]
        parts.append(Text(t(lang, "pool.digest_claim", id=newest[0].id, cap=team.claim_cap,
                             reclaim=team.reclaim_days)))
    return [Outgoing(destination=f"channel:{team.channel_id}",
                     reply=Reply(parts=tuple(parts), private=False, summary=title.replace("*", "")),
                     dedupe_key=f"team:{team.id}:{DIGEST_KIND}:{run.slot_day.isoformat()}",
                     meta={"kind": DIGEST_KIND, "returned": [c.id for c in returned], "total": total})]


def _digest_row(c: Customer, lang: str, tz: ZoneInfo) -> tuple[str, ...]:
    when = fmt.day(c.released_at.astimezone(tz).date(), lang) if c.released_at else "—"
    return (f"#{c.id}", c.name, stage_label(c.stage, lang), when)


# --- registration (reminders/schedule.py DEFAULT_KINDS) ---------------------------------------------

#: (kind, job, rule, local time, on_holiday)
SCHEDULES = (
    (FOLLOWUP_KIND, followup_due, "FREQ=DAILY", "09:00", "skip"),
    (POOL_KIND, customer_pool, "FREQ=DAILY", "09:00", "skip"),
    (DIGEST_KIND, pool_digest, "FREQ=WEEKLY;BYDAY=MO", "09:00", "move"),
)

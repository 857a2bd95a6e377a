"""When scheduled posts fire. The only module that imports apscheduler.

Schedules
    The defaults live in code: DEFAULT_KINDS maps a kind ("deadline_reminders", ...) to its job and a
    ScheduleSpec (an RRULE body in team-local time, a local "HH:MM", and what a slot on a non-working
    day does). Every team gets every default kind. A `Schedule` row (team_id, kind) overrides it for
    one team (another rule or time, or enabled=False); no rows are seeded. An override only affects
    slots after its updated_at, and a kind fires at most once per team and local day, so changing
    09:00 to 09:30 at 09:10 does not post twice that day. A new feature adds its kind to DEFAULT_KINDS.

Occurrences
    Computed per team in its time zone (zoneinfo + dateutil.rrule over naive local wall time, then
    localised): a wall-clock time that does not exist on a DST change (02:30 on spring-forward day)
    fires once, shifted forward by the gap; an ambiguous one (01:30 on fall-back day) fires once, at
    the first of the two. on_holiday: "skip" (the slot simply does not exist on non-working days:
    the daily reminder jobs), "move" (to the same time on the next working day: weekly and monthly
    posts) or "keep".

The fire ledger key is the ORIGINAL slot
    (team, kind, slot) where slot is the scheduled local time before any holiday move, in UTC. The
    slot is a pure function of the rule and time zone, so a moved occurrence has one key whichever
    day it lands on, and it can be claimed only once. A change of calendar or rule cannot make one
    occurrence fire twice; two different slots can still land on the same day (a weekly post moved
    by a long holiday), which is intended: each is its own occurrence.

tick(now)
    For every team and kind, occurrences due in [now - grace, now] and not in the ledger are claimed
    (INSERT ... ON CONFLICT DO NOTHING) and their job runs in the SAME unit of work, which also queues
    the job's messages in the outbox: claim and messages commit together. A crash before the commit
    leaves nothing (the next tick, on any replica, claims again); a crash after it leaves a claimed
    occurrence whose messages are safely queued. Occurrences due before now - grace (the process was
    down too long) are recorded as skipped, never fired late. Jobs get the occurrence, not the wall
    clock, so a catch-up run sends what the on-time run would have sent. Messages that would arrive
    in quiet hours wait for their end, in the recipient's own time zone (a person's UserPref.tz,
    else the team's; a channel post: the team's).

Windows
    Each message is due when its occurrence fires, or at the end of the recipient's quiet hours
    if it fires inside them, and stays good for the grace after that (a weekly agenda: never past
    the start of its meeting). A message the outbox could not deliver by then is kept as expired
    (reminders/outbox.py), never sent late: a catch-up within the grace still delivers, a reminder
    for a day gone by does not arrive with stale text.

Scheduler
    Wraps APScheduler 3.x BackgroundScheduler with its in-memory job store: one interval job calls
    tick(), another drains the outbox, a third prunes old sent messages and ledger rows every 6 hours.
    A job that raises is rolled back and retried at the next tick (while within the grace).
    APScheduler's store is never shared between processes (its FAQ); the ledger and the outbox
    leases are what make several replicas safe.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.background import BackgroundScheduler
from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlmodel import Session

from commands.core.clock import Clock
from commands.core.schedules import ANCHOR, ON_HOLIDAY, ScheduleSpec, upsert_schedule, validate_spec  # noqa: F401
from commands.core.reply import Outgoing, reply_to_dict
from reminders import assess_jobs, customer_jobs, jobs, ledger, resource_jobs, summary_jobs
from reminders.jobs import JobRun, recipient_tz
from reminders.outbox import (  # noqa: F401
    DrainStats,
    OutboxConfig,
    RateLimiter,
    Sender,
    drain,
    enqueue,
    prune_receipts,
    prune_sent,
)
from commands.core.workdays import DEFAULT_QUIET_HOURS, QuietHours, WorkdayCalendar, calendar_for
from storage.models import Schedule, Team
from storage.outbox_store import Message, enqueue_many
from storage.uow import UowFactory

log = logging.getLogger("teambot.schedule")

#: How late an occurrence may still fire (caught up after a restart); older ones are skipped.
DEFAULT_GRACE = timedelta(hours=6)
#: How far before the grace we still look, to record missed occurrences as skipped.
DEFAULT_LOOKBACK = timedelta(days=2)
#: Longest move off non-working days we account for (Spring Festival + weekends is ~10 days).
MAX_SHIFT = timedelta(days=21)

Job = Callable[[Session, JobRun], list[Outgoing]]


@dataclass(frozen=True)
class Kind:
    name: str
    job: Job
    default: ScheduleSpec


#: kind -> job + default schedule, for every team (SPEC "Scheduled posts").
DEFAULT_KINDS: dict[str, Kind] = {
    k.name: k for k in (
        Kind("deadline_reminders", jobs.deadline_reminders, ScheduleSpec("FREQ=DAILY", "09:00", "skip")),
        Kind("overdue_nudges", jobs.overdue_nudges, ScheduleSpec("FREQ=DAILY", "09:00", "skip")),
        Kind("progress_nudges", jobs.progress_nudges, ScheduleSpec("FREQ=WEEKLY;BYDAY=FR", "16:00", "move")),
        Kind(resource_jobs.KIND, resource_jobs.approval_nudges,
             ScheduleSpec(resource_jobs.RULE, resource_jobs.LOCAL_TIME, resource_jobs.ON_HOLIDAY)),
        # Weekly agenda, KPI summaries (weekly, monthly, quarterly, annual) and the monthly goal review.
        *(Kind(p.name, p.job, ScheduleSpec(p.rule, p.local_time, p.on_holiday)) for p in summary_jobs.SCHEDULES),
        # Customers: follow-up due DMs, the pool's warnings and releases, the weekly pool digest.
        *(Kind(name, job, ScheduleSpec(rule, hm, hol)) for name, job, rule, hm, hol in customer_jobs.SCHEDULES),
        # Assessments due (考核): last month to the managers, last quarter and year to the performance admins.
        *(Kind(assess_jobs.KINDS[k], assess_jobs.JOBS[k], ScheduleSpec(assess_jobs.RULES[k], assess_jobs.LOCAL_TIME,
                                                                         "move")) for k in assess_jobs.KINDS),
    )
}


# --- occurrences ----------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Occurrence:
    fire_at: datetime  # aware UTC, after moving off non-working days
    slot: datetime  # aware UTC, as scheduled: the ledger key


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Local wall time -> aware UTC. fold=0: an ambiguous time is its first occurrence; a time in a
    spring-forward gap is read with the offset before the gap, i.e. shifted forward by the gap."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def occurrences(spec: ScheduleSpec, tz: ZoneInfo, cal: WorkdayCalendar, after: datetime,
                until: datetime) -> list[Occurrence]:
    """Occurrences whose fire_at lies in (after, until], oldest first."""
    hh, mm = spec.hm
    shift = MAX_SHIFT if spec.on_holiday == "move" else timedelta(0)
    lo = (after - shift).astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    hi = until.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    interval = any(p.startswith("INTERVAL=") and p != "INTERVAL=1" for p in spec.rule.upper().split(";"))
    start = ANCHOR if interval else datetime.combine(lo.date(), time(0))
    rule = rrulestr(spec.rule, dtstart=start.replace(hour=hh, minute=mm, second=0, microsecond=0))
    out: list[Occurrence] = []
    seen: set[datetime] = set()
    for naive in rule.between(lo, hi, inc=True):
        naive = naive.replace(hour=hh, minute=mm, second=0, microsecond=0)
        day = naive.date()
        fire_naive = naive
        if spec.on_holiday != "keep" and not cal.is_workday(day):
            if spec.on_holiday == "skip":
                continue
            fire_naive = datetime.combine(cal.next_workday(day), naive.time())
        slot = localize(naive, tz)
        if slot in seen:
            continue
        seen.add(slot)
        fire_at = localize(fire_naive, tz)
        if after < fire_at <= until:
            out.append(Occurrence(fire_at=fire_at, slot=slot))
    out.sort()
    return out


# --- effective schedules --------------------------------------------------------------------------------


def effective_specs(team_id: int, overrides: Iterable[Schedule], kinds: dict[str, Kind]
                    ) -> dict[str, tuple[ScheduleSpec, datetime | None]]:
    """kind -> (spec, override updated_at or None) for one team."""
    rows = {o.kind: o for o in overrides if o.team_id == team_id}
    out: dict[str, tuple[ScheduleSpec, datetime | None]] = {}
    for name, kind in kinds.items():
        row = rows.get(name)
        if row is None:
            out[name] = (kind.default, None)
            continue
        try:
            spec = ScheduleSpec(row.rule, row.local_time, row.on_holiday, row.enabled)
        except ValueError as e:
            log.error("team %s: schedule %s is invalid (%s); using the default", team_id, name, e)
            spec = kind.default
        out[name] = (spec, row.updated_at)
    return out


def set_schedule(session: Session, team_id: int, kind: str, *, by: str, now: datetime,
                 rule: str | None = None, local_time: str | None = None, on_holiday: str | None = None,
                 enabled: bool | None = None, kinds: dict[str, Kind] | None = None) -> Schedule:
    """Create or change a team's override of `kind` (ValueError on an unknown kind or bad spec)."""
    kinds = kinds if kinds is not None else DEFAULT_KINDS
    if kind not in kinds:
        raise ValueError(f"unknown schedule '{kind}' (known: {', '.join(sorted(kinds))})")
    return upsert_schedule(session, team_id, kind, kinds[kind].default, by=by, now=now, rule=rule,
                           local_time=local_time, on_holiday=on_holiday, enabled=enabled)


def next_occurrence(session: Session, team: Team, kind: str, after: datetime, *,
                    kinds: dict[str, Kind] | None = None) -> Occurrence | None:
    """The next time `kind` fires for `team` after `after` (None when disabled or none in 400 days)."""
    kinds = kinds if kinds is not None else DEFAULT_KINDS
    overrides = session.scalars(select(Schedule).where(Schedule.team_id == team.id)).all()
    spec, _ = effective_specs(team.id, overrides, kinds)[kind]
    if not spec.enabled:
        return None
    tz, cal = ZoneInfo(team.tz), calendar_for(team.calendar)
    for days in (8, 40, 400):
        occ = occurrences(spec, tz, cal, after, after + timedelta(days=days))
        if occ:
            return occ[0]
    return None


# --- tick -----------------------------------------------------------------------------------------------


@dataclass
class TickReport:
    fired: list[tuple[int, str, datetime]] = field(default_factory=list)
    skipped: list[tuple[int, str, datetime]] = field(default_factory=list)
    #: Occurrences another process claimed first.
    lost: int = 0
    messages: int = 0
    #: Messages whose dedupe_key already existed.
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


_warned: set[tuple[int, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(team_id: int, what: str) -> None:
    with _warned_lock:
        if (team_id, what) in _warned:
            return
        _warned.add((team_id, what))
    log.error("team %s: %s; its scheduled posts are off until fixed", team_id, what)


def _team_setup(team: Team) -> tuple[ZoneInfo, WorkdayCalendar] | None:
    try:
        tz = ZoneInfo(team.tz)
    except (ZoneInfoNotFoundError, ValueError):
        _warn_once(team.id, f"unknown time zone {team.tz!r}")
        return None
    try:
        cal = calendar_for(team.calendar)
    except ValueError as e:
        _warn_once(team.id, str(e))
        return None
    return tz, cal


def tick(uow_factory: UowFactory, now: datetime, *, worker_id: str = "tick",
         kinds: dict[str, Kind] | None = None, grace: timedelta = DEFAULT_GRACE,
         lookback: timedelta = DEFAULT_LOOKBACK, quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS
         ) -> TickReport:
    """Fire every occurrence due in [now - grace, now] not yet in the ledger; record older missed
    ones (back to now - grace - lookback) as skipped."""
    kinds = kinds if kinds is not None else DEFAULT_KINDS
    report = TickReport()
    horizon = now - grace - lookback
    with uow_factory() as uow:
        session = uow.session
        teams = list(session.scalars(select(Team).order_by(Team.id)))
        overrides = list(session.scalars(select(Schedule)))
        done = ledger.known(session, horizon - MAX_SHIFT - timedelta(days=1))

    done_by_team: dict[int, list[tuple[str, datetime]]] = {}
    for team_id, name, slot in done:
        done_by_team.setdefault(team_id, []).append((name, slot))

    plan: list[tuple[Occurrence, Team, str, ZoneInfo, WorkdayCalendar]] = []
    for team in teams:
        setup = _team_setup(team)
        if setup is None:
            continue
        tz, cal = setup
        # One occurrence per kind and local day: after a schedule change (09:00 -> 09:30 at 09:10)
        # the new slot of a day whose old slot already fired does not fire again.
        done_days = {(name, slot.astimezone(tz).date()) for name, slot in done_by_team.get(team.id, ())}
        for name, (spec, changed_at) in effective_specs(team.id, overrides, kinds).items():
            if not spec.enabled:
                continue
            for occ in occurrences(spec, tz, cal, horizon, now):
                if occ.fire_at < team.created_at or (changed_at is not None and occ.fire_at < changed_at):
                    continue  # before the team or this schedule existed
                if (team.id, name, occ.slot) in done or (name, occ.slot.astimezone(tz).date()) in done_days:
                    continue
                plan.append((occ, team, name, tz, cal))
    plan.sort(key=lambda p: (p[0], p[1].id, p[2]))

    late = [p for p in plan if p[0].fire_at < now - grace]
    if late:
        with uow_factory() as uow:
            for occ, team, name, _tz, _cal in late:
                reason = (f"missed: due {occ.fire_at.isoformat()}, first seen {now.isoformat()}, "
                          f"beyond the grace of {grace}")
                if ledger.record_skipped(uow.session, team_id=team.id, kind=name, occurrence=occ.slot,
                                         fire_at=occ.fire_at, worker_id=worker_id, now=now, reason=reason):
                    report.skipped.append((team.id, name, occ.slot))
                    log.warning("team %s %s %s skipped: %s", team.id, name, occ.slot.isoformat(), reason)

    for occ, team, name, tz, cal in plan:
        if occ.fire_at < now - grace:
            continue
        try:
            _fire(uow_factory, report, kinds[name], team.id, occ, now, tz, cal, worker_id, quiet_hours, grace)
        except Exception as e:  # one failing job must not stop the others
            log.exception("team %s %s %s failed; retried next tick (within the grace)", team.id, name,
                          occ.slot.isoformat())
            report.errors.append(f"{team.id}:{name}:{occ.slot.isoformat()}: {type(e).__name__}: {e}")
    return report


def window_end(msg: Outgoing, due: datetime, grace: timedelta) -> datetime:
    """When a scheduled message goes stale: the grace after it was due; a weekly agenda, at the
    latest when its meeting is over (an agenda that arrives after the meeting is no use)."""
    end = due + grace
    meeting = msg.meta.get("meeting") if msg.meta.get("kind") == "weekly_agenda" else None
    if meeting:
        try:
            over = datetime.fromisoformat(meeting) + timedelta(minutes=sum(msg.meta.get("boxes") or [60]))
            end = min(end, over.astimezone(UTC))
        except (TypeError, ValueError):
            pass
    return end


def _fire(uow_factory: UowFactory, report: TickReport, kind: Kind, team_id: int, occ: Occurrence,
          now: datetime, tz: ZoneInfo, cal: WorkdayCalendar, worker_id: str,
          quiet_hours: QuietHours | None, grace: timedelta) -> None:
    with uow_factory() as uow:
        session = uow.session
        if not ledger.claim(session, team_id=team_id, kind=kind.name, occurrence=occ.slot, fire_at=occ.fire_at,
                            worker_id=worker_id, now=now):
            report.lost += 1
            return
        team = session.get(Team, team_id)
        if team is None:
            return
        run = JobRun(team=team, kind=kind.name, slot=occ.slot, fire_at=occ.fire_at, now=now, calendar=cal)
        messages = list(kind.job(session, run))
        zone_of = recipient_tz(session, team, {m.destination[5:] for m in messages if m.destination.startswith("user:")})
        rows = []
        for msg in messages:
            zone = zone_of(msg.destination[5:]) if msg.destination.startswith("user:") else tz
            due = quiet_hours.release(occ.fire_at, zone) if quiet_hours else occ.fire_at
            rows.append(Message(team.platform, msg.destination, reply_to_dict(msg.reply), msg.dedupe_key,
                                not_before=quiet_hours.release(now, zone) if quiet_hours else now,
                                due_at=due, expires_at=window_end(msg, due, grace)))
        # One multi-row INSERT for the job's messages, in order (a dedupe_key already queued is skipped).
        queued = enqueue_many(session, rows, now=now)
        dup = len(messages) - queued
        ledger.set_detail(session, team_id=team_id, kind=kind.name, occurrence=occ.slot,
                          detail=f"queued {queued}" + (f", {dup} already queued" if dup else ""))
    report.fired.append((team_id, kind.name, occ.slot))
    report.messages += queued
    report.duplicates += dup


# --- the process-level scheduler ------------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 60.0
    drain_seconds: float = 1.0
    grace: timedelta = DEFAULT_GRACE
    lookback: timedelta = DEFAULT_LOOKBACK
    quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    #: Housekeeping every 6 hours: delete sent outbox rows and ledger rows older than this many days
    #: (0 keeps them for ever). The ledger is only read back MAX_SHIFT + grace + lookback (~4 weeks).
    keep_sent_days: int = 30
    keep_ledger_days: int = 90
    #: Receipts of inbound deliveries (a redelivery is answered once): platforms redeliver within hours.
    keep_receipt_days: int = 7


class Housekeeping(NamedTuple):
    sent: int
    ledger: int
    receipts: int


class _SkippedRunIsDebug(logging.Filter):
    """APScheduler warns when a job is still running at its next interval ("skipped: maximum number of
    running instances reached"). A tick or drain that takes longer than its interval under load is
    expected, and the next run does what was left (both are idempotent): a DEBUG line, not a WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "maximum number of running instances" in str(record.msg):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedRunIsDebug())


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """tick() and the outbox drain on an APScheduler 3.x BackgroundScheduler (in-memory job store).

    Time comes from `clock`; tests call tick()/drain() directly and never start() it."""

    def __init__(self, uow_factory: UowFactory, clock: Clock, *, sender: Sender | None = None,
                 worker_id: str | None = None, config: SchedulerConfig | None = None,
                 kinds: dict[str, Kind] | None = None):
        self.uow = uow_factory
        self.clock = clock
        self.sender = sender
        self.worker_id = worker_id or default_worker_id()
        self.config = config or SchedulerConfig()
        self.kinds = kinds
        #: Spaces each platform's calls across drains (OutboxConfig.rates).
        self.limiter = RateLimiter(self.config.outbox.rates)
        self._aps: BackgroundScheduler | None = None
        #: When tick() last finished (the clock's time); /healthz and /metrics watch it.
        self.last_tick: datetime | None = None
        self.created_at = clock.now()
        #: Called with every drain's stats (/metrics counts what went out).
        self.on_drain: Callable[[DrainStats], None] | None = None

    def tick(self, now: datetime | None = None) -> TickReport:
        report = tick(self.uow, now or self.clock.now(), worker_id=self.worker_id, kinds=self.kinds,
                      grace=self.config.grace, lookback=self.config.lookback,
                      quiet_hours=self.config.quiet_hours)
        self.last_tick = self.clock.now()
        return report

    def since_tick(self, now: datetime | None = None) -> float:
        """Seconds since the last tick finished (since the scheduler was made, before the first)."""
        now = now or self.clock.now()
        return max(0.0, (now - (self.last_tick or self.created_at)).total_seconds())

    def stalled(self, now: datetime | None = None) -> bool:
        """No tick has finished for three intervals (a tick that fails, e.g. without its database,
        does not count)."""
        return self.since_tick(now) > 3 * self.config.tick_seconds

    def drain(self) -> DrainStats:
        if self.sender is None:
            return DrainStats()
        stats = drain(self.uow, self.sender, self.clock, self.worker_id, config=self.config.outbox,
                      limiter=self.limiter)
        if self.on_drain is not None:
            self.on_drain(stats)
        return stats

    def run_pending(self, now: datetime | None = None) -> tuple[TickReport, DrainStats]:
        """One tick and one drain, in the caller's thread (console, scripts, tests)."""
        return self.tick(now), self.drain()

    def housekeeping(self, now: datetime | None = None) -> Housekeeping:
        """Sent messages, ledger rows and inbound receipts deleted."""
        now = now or self.clock.now()
        sent = led = receipts = 0
        with self.uow() as uow:
            if self.config.keep_sent_days > 0:
                sent = prune_sent(uow.session, now - timedelta(days=self.config.keep_sent_days))
            keep = max(self.config.keep_ledger_days, (MAX_SHIFT + self.config.grace + self.config.lookback).days + 2)
            if self.config.keep_ledger_days > 0:
                led = ledger.prune(uow.session, now - timedelta(days=keep))
            if self.config.keep_receipt_days > 0:
                receipts = prune_receipts(uow.session, now - timedelta(days=self.config.keep_receipt_days))
        if sent or led or receipts:
            log.info("housekeeping: deleted %s sent messages, %s ledger rows and %s inbound receipts",
                     sent, led, receipts)
        return Housekeeping(sent, led, receipts)

    def _safe(self, fn: Callable[[], object], what: str) -> None:
        try:
            fn()
        except Exception:  # keep the background jobs alive
            log.exception("%s failed; next run as scheduled", what)

    def start(self) -> None:
        if self._aps is not None:
            return
        aps = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                              "misfire_grace_time": None})
        first = datetime.now(UTC)
        aps.add_job(self._safe, "interval", args=(self.tick, "tick"), id="teambot.tick",
                    seconds=self.config.tick_seconds, next_run_time=first)
        if self.sender is not None:
            aps.add_job(self._safe, "interval", args=(self.drain, "outbox drain"), id="teambot.drain",
                        seconds=self.config.drain_seconds, next_run_time=first)
        aps.add_job(self._safe, "interval", args=(self.housekeeping, "housekeeping"), id="teambot.housekeeping",
                    hours=6)
        aps.start()
        self._aps = aps
        log.info("scheduler %s started: tick every %ss, drain every %ss", self.worker_id,
                 self.config.tick_seconds, self.config.drain_seconds if self.sender else "-")

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    def shutdown(self, wait: bool = True) -> None:
        if self._aps is None:
            return
        self._aps.shutdown(wait=wait)
        self._aps = None

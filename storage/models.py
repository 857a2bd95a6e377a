"""SQLModel tables. Datetimes are aware UTC (see types.UTCDateTime); local time lives only at the edges."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.sealed import SealedText
from storage.types import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _fk(target: str, nullable: bool = False, index: bool = True) -> Column:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index)


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("platform", "channel_id", name="uq_team_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    channel_id: str = Field(max_length=64)
    name: str = Field(max_length=80)
    tz: str = Field(default="Asia/Shanghai", max_length=64)
    calendar: str = Field(default="CN", max_length=8)
    lang: str = Field(default="zh", max_length=8)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    # --- customer pool rules (commands/customers/; SPEC "/customer"), changed by a manager -------------
    #: A customer with no follow-up for this many days returns to the pool (公海).
    pool_days: int = Field(default=30, sa_column=Column(Integer, nullable=False, server_default="30"))
    #: Its owner is warned this many working days before.
    warn_days: int = Field(default=3, sa_column=Column(Integer, nullable=False, server_default="3"))
    #: The last owner may not claim it back for this many days after it was released.
    reclaim_days: int = Field(default=7, sa_column=Column(Integer, nullable=False, server_default="7"))
    #: Customers one person may own at most (claims past it are refused).
    claim_cap: int = Field(default=50, sa_column=Column(Integer, nullable=False, server_default="50"))
    #: Reaching this stage makes a customer a 高质量客户 (the `qualified` KPI).
    quality_stage: str = Field(default="qualified",
                               sa_column=Column(String(12), nullable=False, server_default="qualified"))
    #: An open deal in the same stage longer than this is "stuck" (agenda 问题讨论).
    stuck_days: int = Field(default=14, sa_column=Column(Integer, nullable=False, server_default="14"))


class Member(SQLModel, table=True):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_member_team_user"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id"))
    user_id: str = Field(max_length=64, index=True)
    display_name: str = Field(default="", max_length=80)
    role: str = Field(max_length=32)
    joined_at: datetime = Field(sa_column=_ts())


class UserPref(SQLModel, table=True):
    """What a person chose for themselves, across teams, plus what the platform told us."""
    __tablename__ = "user_pref"

    platform: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(primary_key=True, max_length=64)
    lang: str | None = Field(default=None, max_length=8)
    tz: str | None = Field(default=None, max_length=64)
    away_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(sa_column=_ts())


class Metric(SQLModel, table=True):
    __tablename__ = "metric"
    __table_args__ = (UniqueConstraint("team_id", "code", name="uq_metric_team_code"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id"))
    code: str = Field(max_length=32)
    name_zh: str = Field(max_length=40)
    name_en: str = Field(max_length=60)
    unit: str = Field(max_length=16)  # "CNY", "count", "%"
    aggregation: str = Field(max_length=8)  # "sum", "average", "last"
    #: Comma-separated extra names users may type ("sales,revenue,销售额,业绩").
    aliases: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    #: Its weight in the assessment sheet (`/kpi weights sales=50 ...`, percent, the team's weights sum
    #: to 100); NULL for every metric of a team means equal weights (commands/assess/sheet.py).
    weight: float | None = Field(default=None)


class ProgressEntry(SQLModel, table=True):
    __tablename__ = "progress_entry"
    # Every index is one more b-tree page written per /progress (migration 0006): a person's
    # entries are looked up within a team and a time range, so (team, time) serves those too.
    __table_args__ = (Index("ix_progress_team_time", "team_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    user_id: str = Field(max_length=64)
    note: str = Field(sa_column=Column(Text, nullable=False))
    is_blocker: bool = Field(default=False)
    created_at: datetime = Field(sa_column=_ts())


class ProgressValue(SQLModel, table=True):
    """One metric value of a progress entry. Denormalised (team, user, time) so that KPI sums
    are one indexed range scan, never a join over every entry."""
    __tablename__ = "progress_value"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=_fk("progress_entry.id"))
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    metric_id: int = Field(sa_column=_fk("metric.id", index=False))
    user_id: str = Field(max_length=64)
    value: float
    created_at: datetime = Field(sa_column=_ts())


class InboundReceipt(SQLModel, table=True):
    """One row per platform delivery we acted on. Inserted in the same transaction as the
    command's change, so a platform retry finds it and gets the first reply, not a second write."""
    __tablename__ = "inbound_receipt"
    __table_args__ = (UniqueConstraint("platform", "key", name="uq_inbound_platform_key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(sa_column=Column(String(200), nullable=False))
    reply_json: str = Field(sa_column=Column(Text, nullable=False))
    # Not indexed: nothing looks receipts up by time, and every command writes one (migration 0006).
    received_at: datetime = Field(sa_column=_ts())


class OutboxMessage(SQLModel, table=True):
    """A message to deliver, written in the same transaction as the change that causes it.
    Senders claim rows with a lease; `seq` (the id) orders messages per destination."""
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "not_before"),
        Index("ix_outbox_destination", "platform", "destination", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    #: "user:<id>" (a DM) or "channel:<id>".
    destination: str = Field(max_length=120)
    #: JSON of the neutral Reply (commands.core.reply.reply_to_dict), rendered by the platform's sender.
    payload: str = Field(sa_column=Column(Text, nullable=False))
    #: Set for messages that must exist once (a reminder occurrence); UNIQUE makes a second enqueue a no-op.
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True, unique=True))
    status: str = Field(default="pending", max_length=12)  # pending | sending | sent | dead | expired
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_column=_ts())
    lease_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    leased_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    #: The moment the message belongs to (a reminder's occurrence, the command it answers).
    due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    #: Past this the message is stale: it is kept as `expired`, never sent (None: no window).
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    #: JSON list of the steps of a multi-step send already done (the text posted, a chart uploaded),
    #: so a retry after a restart does only what is left.
    steps: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_team_status_due", "team_id", "status", "due_at"),
        Index("ix_task_assignee_status", "assignee", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    #: Platform user id of the person who must do it.
    assignee: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    title: str = Field(max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    due_at: datetime = Field(sa_column=_ts())
    status: str = Field(default="open", max_length=12)  # open | done | cancelled
    #: Reminders wait until then ("Snooze 1 day").
    snoozed_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# --- delivery engine (reminders/): schedules, fire ledger, outbox pacing -------------------------------

#: Partial scans for the outbox sender: the non-terminal rows of one destination, oldest first.
Index("ix_outbox_dest_status", OutboxMessage.platform, OutboxMessage.destination, OutboxMessage.status,
      OutboxMessage.id)


class Schedule(SQLModel, table=True):
    """A team's override of a scheduled post (reminders/schedule.py keeps the defaults in code).
    No row means the default; a row changes the rule or time, or turns the post off."""
    __tablename__ = "schedule"
    __table_args__ = (UniqueConstraint("team_id", "kind", name="uq_schedule_team_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id"))
    #: "deadline_reminders", "overdue_nudges", "progress_nudges", "weekly_agenda", ...
    kind: str = Field(max_length=40)
    #: RRULE body in local time without the time of day, e.g. "FREQ=WEEKLY;BYDAY=MO" or "FREQ=DAILY".
    rule: str = Field(sa_column=Column(String(200), nullable=False))
    #: Local wall-clock time "HH:MM" in the team's time zone.
    local_time: str = Field(max_length=5)
    #: What a slot on a non-working day does: "move" (to the next working day), "skip", "keep".
    on_holiday: str = Field(default="move", max_length=8)
    enabled: bool = Field(default=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class FireLedger(SQLModel, table=True):
    """One row per (team, kind, scheduled slot): the UNIQUE key is what makes an occurrence fire once
    across restarts and replicas. `occurrence` is the ORIGINAL slot (before a holiday move)."""
    __tablename__ = "fire_ledger"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "occurrence", name="uq_fire_team_kind_occurrence"),
        Index("ix_fire_occurrence", "occurrence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    kind: str = Field(max_length=40)
    occurrence: datetime = Field(sa_column=_ts())
    #: When it was due after moving off non-working days (== occurrence when not moved).
    fire_at: datetime = Field(sa_column=_ts())
    status: str = Field(max_length=8)  # fired | skipped
    claimed_by: str = Field(max_length=64)
    claimed_at: datetime = Field(sa_column=_ts())
    #: Messages queued (fired) or why it was skipped.
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class OutboxPace(SQLModel, table=True):
    """Per-destination pacing shared by every sender replica: nothing more goes to the destination
    before next_at (Slack ~1 message/s per channel, DingTalk/WeCom robots 20/min)."""
    __tablename__ = "outbox_pace"

    platform: str = Field(primary_key=True, max_length=16)
    destination: str = Field(primary_key=True, max_length=120)
    next_at: datetime = Field(sa_column=_ts())


# --- resources (commands/resources/): requests, their transitions, the inventory ---------------------

from sqlalchemy import BigInteger, CheckConstraint


def _amount(nullable: bool = False) -> Column:
    """Whole units: people, customer leads, channels, or CNY for budget."""
    return Column(BigInteger, nullable=nullable)


class ResourceRequest(SQLModel, table=True):
    """A request for resources; `state` moves only along commands/resources/states.py TRANSITIONS."""
    __tablename__ = "resource_request"
    __table_args__ = (
        Index("ix_resource_request_team_state", "team_id", "state"),
        Index("ix_resource_request_team_requester", "team_id", "requester"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    requester: str = Field(max_length=64)
    type: str = Field(max_length=16)  # people | customers | marketing | budget
    amount: int = Field(sa_column=_amount())
    allocated_amount: int | None = Field(default=None, sa_column=_amount(nullable=True))
    #: What the allocation brought, from the feedback (`/resource feedback 7 ... sales=5万 customers=2`):
    #: the return side of 投入产出比. NULL: not said.
    return_sales: float | None = Field(default=None)
    return_customers: int | None = Field(default=None, sa_column=_amount(nullable=True))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    needed_by: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    #: submitted | approved | reviewed | allocated | closed | rejected | cancelled
    state: str = Field(max_length=12)
    created_at: datetime = Field(sa_column=_ts())
    #: When it entered its current state (the approval nudge counts from here).
    updated_at: datetime = Field(sa_column=_ts())


class ResourceTransition(SQLModel, table=True):
    """One step of a request's history: who moved it from what to what, when, why, how much."""
    __tablename__ = "resource_transition"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=_fk("resource_request.id"))
    actor: str = Field(max_length=64)
    at: datetime = Field(sa_column=_ts())
    #: None for the submission itself.
    from_state: str | None = Field(default=None, max_length=12)
    to_state: str = Field(max_length=12)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    amount: int | None = Field(default=None, sa_column=_amount(nullable=True))


class ResourceStock(SQLModel, table=True):
    """The inventory (资源盘点): what a team has and needs per type. `available` never goes below
    zero: allocation takes it with one conditional UPDATE, and the CHECK backs that up."""
    __tablename__ = "resource_stock"
    __table_args__ = (
        UniqueConstraint("team_id", "type", name="uq_resource_stock_team_type"),
        CheckConstraint("available >= 0", name="ck_resource_stock_available"),
        CheckConstraint("needed >= 0", name="ck_resource_stock_needed"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    type: str = Field(max_length=16)
    available: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    needed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at: datetime = Field(sa_column=_ts())


# --- goals, KPIs and the weekly meeting (commands/goals/, kpi.py, agenda.py; storage/queries.py) ---------

#: Index-only range scans for every KPI aggregation (storage/queries.py): sums, averages and
#: per-person GROUP BYs over a team's time range read the index alone, never the table. Time
#: before metric: a /progress writes its values next to each other at the index's end, one page
#: (with metric first, each value landed in its own part of the index; migration 0006), and a
#: summary of all metrics reads the period once. The only other index is entry_id's (undo).
Index("ix_value_team_time_cover", ProgressValue.team_id, ProgressValue.created_at, ProgressValue.metric_id,
      ProgressValue.user_id, ProgressValue.value)


class Goal(SQLModel, table=True):
    """A SMART goal: one metric, a number, a time frame, for a person or (user_id NULL) the team.

    kind: "week" | "month" | "quarter" | "year" (a calendar period, or every such period when
    `recurring`), or "deadline" (from the day it was set up to the end of its deadline day)."""
    __tablename__ = "goal"
    __table_args__ = (Index("ix_goal_team_metric_kind", "team_id", "metric_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    metric_id: int = Field(sa_column=_fk("metric.id", index=False))
    #: Platform user id of the person; NULL means the whole team.
    user_id: str | None = Field(default=None, max_length=64)
    target: float
    kind: str = Field(max_length=8)
    recurring: bool = Field(default=False)
    #: Aware UTC bounds of the period (local midnights); NULL for recurring goals.
    period_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    period_end: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    #: "absolute" or "relative" (target = base_value x (1 + relative_pct / 100), fixed at set time).
    basis: str = Field(default="absolute", max_length=8)
    relative_pct: float | None = Field(default=None)
    base_value: float | None = Field(default=None)
    status: str = Field(default="active", max_length=10)  # active | cancelled
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class GoalRevision(SQLModel, table=True):
    """Every change of a goal's target, with who, when and why (`/goal adjust ... because ...`)."""
    __tablename__ = "goal_revision"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(sa_column=_fk("goal.id"))
    old_target: float
    new_target: float
    reason: str = Field(sa_column=Column(Text, nullable=False))
    changed_by: str = Field(max_length=64)
    changed_at: datetime = Field(sa_column=_ts())


class Meeting(SQLModel, table=True):
    """A team's weekly meeting (`/agenda schedule weekly mon 09:30 60m`); no row means the default
    (Monday 09:30, 60 minutes). The agenda post itself is the delivery engine's "weekly_agenda"
    schedule, which /agenda schedule moves to 30 minutes before the meeting."""
    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("team_id", name="uq_meeting_team"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    weekday: int = Field(default=0)  # Monday = 0
    local_time: str = Field(default="09:30", max_length=5)
    minutes: int = Field(default=60)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_column=_ts())


class TeamRobot(SQLModel, table=True):
    """A team's group robot (DingTalk custom robot, WeCom group robot): where its channel posts go."""
    __tablename__ = "team_robot"

    team_id: int = Field(sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), primary_key=True))
    #: Its URL carries the robot's access token: sealed at rest like the secret (storage/sealed.py).
    webhook: str = Field(sa_column=Column(SealedText, nullable=False))
    #: DingTalk's signing secret ("加签", SEC...); None for WeCom.
    secret: str | None = Field(default=None, sa_column=Column(SealedText, nullable=True))
    set_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_column=_ts())


# --- customers (commands/customers/): the shared customer database, stages, follow-ups -------------------

from datetime import date

from sqlalchemy import Date, Float


class Customer(SQLModel, table=True):
    """A team's customer, owned by one member or (owner_id NULL) in the team's pool (公海).

    name_key / phone_key are commands/customers/names.py's normal forms: the UNIQUE keys per team are
    what make 查重 hold under two simultaneous adds (NULL phone_keys do not collide)."""
    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("team_id", "name_key", name="uq_customer_team_name"),
        UniqueConstraint("team_id", "phone_key", name="uq_customer_team_phone"),
        Index("ix_customer_team_owner_stage", "team_id", "owner_id", "stage"),
        Index("ix_customer_team_active", "team_id", "active_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    name: str = Field(max_length=120)
    name_key: str = Field(max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    phone_key: str | None = Field(default=None, max_length=40)
    contact: str = Field(default="", max_length=80)
    source: str = Field(default="", max_length=80)
    #: lead | contacted | qualified | proposal | negotiation | won | lost (commands/customers/stages.py)
    stage: str = Field(default="lead", max_length=12)
    #: Deal size in CNY (the latest one given with a stage change), or None.
    amount: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    lost_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    #: Platform user id of the owner; NULL: in the team's pool.
    owner_id: str | None = Field(default=None, max_length=64)
    #: Who owned it before it went to the pool (the reclaim cool-down applies to them).
    last_owner_id: str | None = Field(default=None, max_length=64)
    released_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    release_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    stage_changed_at: datetime = Field(sa_column=_ts())
    #: The last follow-up (None: none yet).
    last_followup_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    #: The stale rule counts from here: the last follow-up, or when the current owner got it (add,
    #: claim, transfer), whichever is later. Stale when active_at < now - pool_days.
    active_at: datetime = Field(sa_column=_ts())
    #: When its owner was warned it is about to return to the pool (NULL again after any activity).
    pool_warned_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(sa_column=_ts())
    #: Bumped by every change; conditional UPDATEs compare it (two managers moving the same customer).
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class CustomerStageChange(SQLModel, table=True):
    """One step of a customer's stage history. from_stage NULL: the stage it was added in.
    team_id/at/to_stage/owner_id are denormalised for the KPIs (qualified, won) and the funnel."""
    __tablename__ = "customer_stage_change"
    __table_args__ = (Index("ix_stage_change_team_at", "team_id", "at", "to_stage", "owner_id"),
                      # The funnel's "how far did each customer get": read in customer order, no sort.
                      Index("ix_stage_change_team_customer", "team_id", "customer_id", "to_stage"))

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(sa_column=_fk("customer.id"))
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    from_stage: str | None = Field(default=None, max_length=12)
    to_stage: str = Field(max_length=12)
    amount: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    #: The customer's owner when it moved (whose KPI it counts for); None if it was in the pool.
    owner_id: str | None = Field(default=None, max_length=64)
    by: str = Field(max_length=64)
    at: datetime = Field(sa_column=_ts())
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class FollowUp(SQLModel, table=True):
    """One follow-up (跟进) of a customer, and the next one it plans (`next_on`, a local date).

    next_state: None when no next date was given; pending until the reminder job (or a new
    follow-up, a snooze, a release) settles it: done | snoozed | cancelled. A snooze moves next_on
    and stays pending. The reminder job finds due rows by (next_state, next_on)."""
    __tablename__ = "followup"
    __table_args__ = (
        Index("ix_followup_customer_at", "customer_id", "at"),
        Index("ix_followup_team_at", "team_id", "at", "by"),
        Index("ix_followup_next", "next_state", "next_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    customer_id: int = Field(sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"),
                                              nullable=False))
    #: Platform user id of who followed up.
    by: str = Field(max_length=64)
    how: str = Field(max_length=8)  # call | visit | wechat | email | meeting
    note: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=_ts())
    next_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    next_state: str | None = Field(default=None, max_length=10)  # pending | done | snoozed | cancelled
    #: The progress entry a visit (拜访) wrote for the `visits` metric, if any.
    entry_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("progress_entry.id",
                                                                                    ondelete="SET NULL"),
                                                                 nullable=True))


# --- marketing activities (commands/activities/) ---------------------------------------------------------


class Activity(SQLModel, table=True):
    """A marketing campaign (`/activity add 华南展会 2026-12-20 budget=5万`) and, once it has happened,
    its result (`/activity result 3 participants=120 leads=15`). The KPI 活动参与人数 compares each
    activity with the team's previous one that has a result (以上次活动参与人数为基准)."""
    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_team_day", "team_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    name: str = Field(max_length=120)
    #: The local day it takes place.
    day: date = Field(sa_column=Column(Date, nullable=False))
    #: CNY; NULL: not said.
    budget: int | None = Field(default=None, sa_column=_amount(nullable=True))
    participants: int | None = Field(default=None, sa_column=_amount(nullable=True))
    leads: int | None = Field(default=None, sa_column=_amount(nullable=True))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    result_by: str | None = Field(default=None, max_length=64)
    result_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# --- recognition: kudos, honours, team goals met (commands/kudos/) -------------------------------------


class Kudos(SQLModel, table=True):
    """A colleague's public praise (`/kudos @li 拿下ACME年框`): posted in the team channel and kept for
    the next agenda's 经验分享 and the monthly 最佳协作 honour."""
    __tablename__ = "kudos"
    __table_args__ = (Index("ix_kudos_team_time", "team_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    giver: str = Field(max_length=64)
    receiver: str = Field(max_length=64)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class Honour(SQLModel, table=True):
    """A title (荣誉称号) the manager confirmed for a member and a period: a known title's code
    (top_sales, top_prospector, best_teamwork) or the words the manager typed."""
    __tablename__ = "honour"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "title", "period", name="uq_honour"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    user_id: str = Field(max_length=64)
    title: str = Field(max_length=60)
    #: The period's label (2026-11, 2026-Q4, 2026).
    period: str = Field(max_length=16)
    period_start: datetime = Field(sa_column=_ts())
    confirmed_by: str = Field(max_length=64)
    confirmed_at: datetime = Field(sa_column=_ts())


class GoalMet(SQLModel, table=True):
    """A team goal met in one of its windows: the claim that the channel hears of it once (团队激励)."""
    __tablename__ = "goal_met"
    __table_args__ = (UniqueConstraint("goal_id", "window_start", name="uq_goal_met_window"),)

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(sa_column=_fk("goal.id", index=False))
    window_start: datetime = Field(sa_column=_ts())
    actual: float
    met_at: datetime = Field(sa_column=_ts())


class Assessment(SQLModel, table=True):
    """A confirmed assessment (考核) of one member for one month, quarter or year: the sheet as it was
    computed when confirmed (JSON, commands/assess/sheet.py), the score that counts (the computed one,
    or the confirmer's `score=`), who confirmed it, and the member's answer (acknowledged or objected)."""
    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "period", name="uq_assessment_member_period"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(sa_column=_fk("team.id", index=False))
    #: Platform user id of the member assessed.
    user_id: str = Field(max_length=64)
    #: Canonical period label: "2026-11", "2026-Q4", "2026".
    period: str = Field(max_length=16)
    kind: str = Field(max_length=8)  # month | quarter | year
    #: The weighted score computed from the sheet (None: no metric with a target).
    computed: float | None = Field(default=None)
    #: The confirmer's override (`score=85`), else None.
    override: float | None = Field(default=None)
    band: str = Field(default="", max_length=2)
    sheet: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    confirmed_by: str = Field(max_length=64)
    confirmed_at: datetime = Field(sa_column=_ts())
    status: str = Field(default="confirmed", max_length=12)  # confirmed | acknowledged | objected
    response: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    responded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))

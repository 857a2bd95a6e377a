"""The one composition root: settings -> engine, unit of work, clock, dispatcher."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.kit.front import Probes
from bot.kit.robots import Robot
from commands.core.clock import Clock, SystemClock
from commands.core.dispatch import Dispatcher
from commands.core.workdays import QuietHours
from reminders.outbox import OutboxConfig, Sender
from reminders.schedule import Scheduler, SchedulerConfig
from storage import migrate
from storage.db import make_engine
from storage.outbox_store import DeliveryWindows
from storage.uow import UowFactory, uow_factory

log = logging.getLogger("teambot")


@dataclass
class Wiring:
    settings: Settings
    engine: Engine
    uow: UowFactory
    clock: Clock
    dispatcher: Dispatcher
    #: What /healthz and /metrics answer.
    probes: Probes = field(default_factory=Probes)


def wire(settings: Settings, *, clock: Clock | None = None, upgrade: bool = True) -> Wiring:
    engine = make_engine(settings.database_url)
    if upgrade and migrate.pending(engine):
        log.info("applying database migrations (%s -> %s)", migrate.current_revision(engine),
                 migrate.head_revision())
        migrate.upgrade(engine)
    clock = clock or SystemClock()
    uow = uow_factory(engine)
    dispatcher = Dispatcher(uow, clock, default_lang=settings.default_lang, default_tz=settings.default_tz,
                            windows=delivery_windows(settings))
    return Wiring(settings=settings, engine=engine, uow=uow, clock=clock, dispatcher=dispatcher)


def delivery_windows(settings: Settings) -> DeliveryWindows:
    ob = settings.outbox
    return DeliveryWindows(reply=timedelta(minutes=ob.reply_window_minutes),
                           notice=timedelta(hours=ob.notice_window_hours))


def scheduler_config(settings: Settings) -> SchedulerConfig:
    sc, ob = settings.scheduler, settings.outbox
    return SchedulerConfig(
        tick_seconds=sc.tick_seconds, drain_seconds=ob.drain_seconds,
        grace=timedelta(hours=sc.grace_hours), lookback=timedelta(days=sc.lookback_days),
        quiet_hours=QuietHours.parse(sc.quiet_hours),
        keep_sent_days=sc.keep_sent_days, keep_ledger_days=sc.keep_ledger_days,
        keep_receipt_days=sc.keep_receipt_days,
        outbox=OutboxConfig(batch=ob.batch, lease_seconds=ob.lease_seconds, max_attempts=ob.max_attempts,
                            backoff_base_seconds=ob.backoff_base_seconds,
                            backoff_cap_seconds=ob.backoff_cap_seconds, pacing=ob.pacing,
                            pace_seconds={"slack": ob.pace_slack, "dingtalk": ob.pace_dingtalk,
                                          "wecom": ob.pace_wecom, "console": 0.0},
                            concurrency=ob.concurrency,
                            rates={"slack": ob.rate_slack, "dingtalk": ob.rate_dingtalk, "wecom": ob.rate_wecom}),
    )


def platform_sender(settings: Settings, w: Wiring) -> Sender | None:
    """The outbox sender of the running platform (the console makes its own: it prints)."""
    if settings.platform == "slack":
        from bot.slack.sender import SlackSender
        return SlackSender.from_settings(settings)
    if settings.platform == "dingtalk":
        from bot.dingtalk.sender import DingTalkSender
        return DingTalkSender.from_settings(settings, robots=robot_lookup(w, "dingtalk"))
    if settings.platform == "wecom":
        from bot.wecom.sender import WeComSender
        return WeComSender.from_settings(settings, robots=robot_lookup(w, "wecom"))
    return None


def on_loop(w: Wiring):
    """How the Slack HTTP server runs a typed command on its event loop with the dispatcher's engine:
    on SQLite the commands of one loop turn share a commit (bot.group_commit); on PostgreSQL each
    statement is awaited (storage.awaited). bench/run.py measures both against the thread pool."""
    from bot.group_commit import GroupCommit
    from storage.awaited import AwaitedEngine

    return GroupCommit(w.engine) if w.engine.dialect.name == "sqlite" else AwaitedEngine(w.engine)


def scheduler(w: Wiring, sender: Sender | None) -> Scheduler:
    return Scheduler(w.uow, w.clock, sender=sender, config=scheduler_config(w.settings))


def operations(w: Wiring, sched: Scheduler | None):
    """/metrics and /healthz for the process (bot/ops.py): w.probes answers them from now on, and in
    Socket Mode or Stream mode the connection reports to w.probes.connection."""
    from bot.kit.liveness import ConnectionWatch
    from bot.ops import observe

    s = w.settings
    name = ("slack_socket_mode" if s.platform == "slack" and s.slack.socket_mode else
            "dingtalk_stream" if s.platform == "dingtalk" and s.dingtalk.mode == "stream" else None)
    ops, w.probes = observe(s, w.uow, w.clock, w.dispatcher, sched,
                            connection=ConnectionWatch(name) if name else None)
    return ops


def robot_lookup(w: Wiring, platform: str):
    """channel id -> the team's group robot, for the DingTalk and WeCom senders."""
    from sqlalchemy import select

    from storage.models import Team, TeamRobot

    def lookup(channel_id: str):
        with w.uow() as u:
            row = u.session.execute(select(TeamRobot.webhook, TeamRobot.secret)
                                    .join(Team, Team.id == TeamRobot.team_id)
                                    .where(Team.platform == platform, Team.channel_id == channel_id)).first()
        return Robot(row.webhook, row.secret) if row is not None else None
    return lookup

"""What an operator of a deployment watches: `GET /metrics` (Prometheus' text format) and `GET /healthz`.

/metrics (one CollectorRegistry per process, never prometheus_client's global one):
  teambot_outbox_messages{platform,status}             messages pending, sending, dead, expired (read
                                                       at scrape time: one grouped query over the
                                                       status index; sent rows are not counted)
  teambot_outbox_oldest_pending_age_seconds{platform}  how late the most overdue waiting message is
  teambot_outbox_sent_total / _retried_total / _failed_total / _expired_total{platform}
                                                       what this replica's sender did: delivered, failed
                                                       and to be retried, given up on (dead), expired
  teambot_scheduler_seconds_since_tick, teambot_scheduler_tick_interval_seconds,
  teambot_scheduler_tick_lag_seconds                   the tick's lag: time since it last finished
                                                       beyond its interval
  teambot_commands_total{command,outcome}              commands handled: ok, refused or error
  teambot_command_seconds{command}                     how long they took (histogram)
  teambot_connection_up{connection}, teambot_connection_down_seconds{connection}
                                                       Slack Socket Mode / DingTalk Stream
  teambot_database_up                                  0 when the scrape could not read the outbox

/healthz: 503 with the reason when the scheduler has not ticked for three intervals, or the Socket
Mode / Stream connection has been down longer than [health] connection_down_seconds.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from bot.config import Settings
from bot.kit.front import Probes
from bot.kit.liveness import ConnectionWatch
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher
from reminders.outbox import ACTIVE, DrainStats, depth
from reminders.outbox.admin import DEPTH_STATUSES
from reminders.schedule import Scheduler
from storage.uow import UowFactory

log = logging.getLogger("teambot.ops")

#: Seconds: a command is answered in milliseconds; Slack gives up after 3 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SENT_OUTCOMES = {"sent": "sent", "retried": "retried", "dead": "failed", "expired": "expired"}


class Ops:
    """The metrics and the health of one process. Wire it with `observe()`."""

    def __init__(self, uow: UowFactory, clock: Clock, *, platforms: Iterable[str] = (),
                 scheduler: Scheduler | None = None, connection: ConnectionWatch | None = None,
                 connection_down_seconds: float = 120.0):
        self.uow = uow
        self.clock = clock
        self.scheduler = scheduler
        self.connection = connection
        self.connection_down_seconds = connection_down_seconds
        #: Platforms whose outbox series are shown (as 0 when empty), so a series does not vanish.
        self.platforms = set(platforms)
        self._platforms_lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.commands = Counter("teambot_commands", "Commands handled, by command and outcome (ok, refused, error)",
                                ["command", "outcome"], registry=r)
        self.latency = Histogram("teambot_command_seconds", "Time to handle a command, in seconds", ["command"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.sends = {
            name: Counter(f"teambot_outbox_{name}", text, ["platform"], registry=r) for name, text in (
                ("sent", "Messages this replica delivered"),
                ("retried", "Sends that failed and will be tried again (rate limits included)"),
                ("failed", "Messages given up on (dead: see `teambot outbox --dead`)"),
                ("expired", "Messages whose window closed before they could be sent (never sent late)"))}
        for platform in self.platforms:  # shown at 0 from the start, so rate() works from the first send
            for counter in self.sends.values():
                counter.labels(platform)
        r.register(_ScrapeTime(self))

    # -- what the process tells ----------------------------------------------------------------
    def command(self, command: str, outcome: str, seconds: float) -> None:
        self.commands.labels(command, outcome).inc()
        self.latency.labels(command).observe(seconds)

    def drained(self, stats: DrainStats) -> None:
        for (platform, status), n in stats.by_platform.items():
            name = _SENT_OUTCOMES.get(status)
            if name is not None and n:
                self.seen_platforms([platform])
                self.sends[name].labels(platform).inc(n)

    def seen_platforms(self, platforms: Iterable[str]) -> list[str]:
        """Add platforms to the ones shown; all of them, sorted."""
        with self._platforms_lock:
            self.platforms.update(platforms)
            return sorted(self.platforms)

    # -- what the probes answer ----------------------------------------------------------------
    def metrics(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def health(self) -> tuple[bool, dict]:
        reasons: list[str] = []
        details: dict = {}
        s = self.scheduler
        if s is not None:
            since = s.since_tick()
            details["scheduler"] = {"seconds_since_tick": round(since, 1), "tick_seconds": s.config.tick_seconds}
            if s.stalled():
                reasons.append(f"the scheduler has not ticked for {since:.0f}s "
                               f"(every {s.config.tick_seconds:g}s; unhealthy after three)")
        c = self.connection
        if c is not None:
            down = c.down_for()
            details["connection"] = {"name": c.name, "up": c.is_up, "down_seconds": round(down, 1),
                                     "connects": c.connects}
            if down > self.connection_down_seconds:
                reasons.append(f"the {c.name} connection has been down for {down:.0f}s "
                               f"(limit {self.connection_down_seconds:g}s): {c.reason}")
        if reasons:
            details["reason"] = "; ".join(reasons)
        return not reasons, details


class _ScrapeTime:
    """The gauges read when /metrics is scraped: the outbox (one query), the scheduler, the connection."""

    def __init__(self, ops: Ops):
        self.ops = ops

    def describe(self):
        return []

    def collect(self):
        ops = self.ops
        yield from self._outbox(ops.clock.now())
        s = ops.scheduler
        if s is not None:
            since, interval = s.since_tick(), s.config.tick_seconds
            for name, text, value in (
                    ("teambot_scheduler_seconds_since_tick", "Seconds since the scheduler's tick last finished", since),
                    ("teambot_scheduler_tick_interval_seconds", "How often the scheduler ticks", interval),
                    ("teambot_scheduler_tick_lag_seconds", "Seconds the next tick is overdue",
                     max(0.0, since - interval))):
                yield GaugeMetricFamily(name, text, value=value)
        c = ops.connection
        if c is not None:
            up = GaugeMetricFamily("teambot_connection_up", "1 while the platform connection is up", labels=["connection"])
            up.add_metric([c.name], 1.0 if c.is_up else 0.0)
            down = GaugeMetricFamily("teambot_connection_down_seconds", "Seconds the platform connection has been down",
                                     labels=["connection"])
            down.add_metric([c.name], c.down_for())
            yield up
            yield down

    def _outbox(self, now: datetime):
        ops = self.ops
        try:
            with ops.uow() as uow:
                rows = depth(uow.session)
        except Exception:  # noqa: BLE001 - a scrape says the database is down, it does not fail
            log.warning("/metrics: could not read the outbox", exc_info=True)
            yield GaugeMetricFamily("teambot_database_up", "0 when the last scrape could not read the database", value=0)
            return
        yield GaugeMetricFamily("teambot_database_up", "0 when the last scrape could not read the database", value=1)
        platforms = ops.seen_platforms(platform for platform, *_ in rows)
        counts = {(p, status): 0 for p in platforms for status in DEPTH_STATUSES}
        oldest: dict[str, datetime] = {}
        for platform, status, n, due in rows:
            counts[(platform, status)] = n
            if status in ACTIVE and due is not None and (platform not in oldest or due < oldest[platform]):
                oldest[platform] = due
        messages = GaugeMetricFamily("teambot_outbox_messages", "Messages in the outbox by platform and status "
                                     "(sent ones are not counted)", labels=["platform", "status"])
        for (platform, status), n in sorted(counts.items()):
            messages.add_metric([platform, status], n)
        age = GaugeMetricFamily("teambot_outbox_oldest_pending_age_seconds",
                                "Seconds since the most overdue pending message was due (0: none overdue)",
                                labels=["platform"])
        for platform in platforms:
            due = oldest.get(platform)
            age.add_metric([platform], max(0.0, (now - due).total_seconds()) if due is not None else 0.0)
        yield messages
        yield age


def observe(settings: Settings, uow: UowFactory, clock: Clock, dispatcher: Dispatcher,
            scheduler: Scheduler | None, *, connection: ConnectionWatch | None = None) -> tuple[Ops, Probes]:
    """Ops for the process, told of every command and drain; the Probes that answer for it."""
    ops = Ops(uow, clock, platforms=[settings.platform], scheduler=scheduler, connection=connection,
              connection_down_seconds=settings.health.connection_down_seconds)
    dispatcher.on_command = ops.command
    if scheduler is not None:
        scheduler.on_drain = ops.drained
    return ops, Probes(health=ops.health, metrics=ops.metrics, connection=connection)

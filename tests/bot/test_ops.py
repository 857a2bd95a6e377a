"""What an operator watches (bot/ops.py): /metrics after real commands and sends on a real database,
/healthz when the scheduler stalls or the DingTalk Stream connection drops, and the Stream
connection coming back after a disconnect frame, a silent gateway, a FIN and a RST (a fake gateway
over real sockets)."""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from dingtalk_stream import AckMessage, ChatbotHandler, Credential
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from bot.config import DingTalkSettings, Settings, SlackSettings
from bot.dingtalk.stream import WatchedStreamClient
from bot.kit.front import Front
from bot.kit.liveness import ConnectionWatch
from bot.ops import Ops, observe
from commands.core import router
from commands.core.clock import SystemClock
from reminders.outbox import SendResult
from reminders.schedule import Scheduler, SchedulerConfig
from storage import outbox_store
from tests.kit.dialog import Chat
from tests.kit.fake_stream_gateway import FakeGateway, callback_frame, system_frame
from tests.kit.recording import RecordingSender


def scrape(ops: Ops) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value, parsed as Prometheus would."""
    body, content_type = ops.metrics()
    assert content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def queue(uow, clock, destination: str, **kw) -> None:
    now = clock.now()
    with uow() as u:
        outbox_store.enqueue(u.session, platform="dingtalk", destination=destination, payload={"parts": []},
                             now=now, due_at=kw.pop("due_at", now), **kw)


def test_metrics_show_commands_sends_the_outbox_and_the_schedulers_lag(uow, clock, monkeypatch):
    monkeypatch.setitem(router._BY_ALIAS, "broken", router.Route("broken", "tests.commands.broken_feature",
                                                                 ("broken",)))
    chat = Chat(uow, clock)
    sender = RecordingSender(clock)
    sched = Scheduler(uow, clock, sender=sender, kinds={}, config=SchedulerConfig(tick_seconds=30, quiet_hours=None))
    ops, probes = observe(Settings(platform="dingtalk"), uow, clock, chat.dispatcher, sched)
    assert probes.metrics is not None and probes.health == ops.health

    assert chat.say("wang", "/team setup 华东销售一组").ok
    assert not chat.say("li", "/team add @zhao rep").ok  # only the manager may
    assert not chat.say("wang", "/team frobnicate").ok
    assert not chat.say("wang", "/broken x").ok  # an incident

    now = clock.now()
    queue(uow, clock, "user:a")
    queue(uow, clock, "user:b")
    queue(uow, clock, "user:c")
    queue(uow, clock, "user:late", due_at=now - timedelta(hours=7), expires_at=now - timedelta(hours=1))
    queue(uow, clock, "user:tomorrow", due_at=now + timedelta(hours=20), not_before=now + timedelta(hours=20))
    sender.fail_always("user:b", SendResult.permanent("user_not_found"))
    sender.script(SendResult.transient("HTTP 502"), destination="user:c")
    sched.tick()
    sched.drain()
    clock.advance(seconds=90)

    m = scrape(ops)
    assert m[("teambot_commands_total", (("command", "team"), ("outcome", "ok")))] == 1
    assert m[("teambot_commands_total", (("command", "team"), ("outcome", "refused")))] == 2
    assert m[("teambot_commands_total", (("command", "broken"), ("outcome", "error")))] == 1
    assert m[("teambot_command_seconds_count", (("command", "team"),))] == 3
    assert 0 < m[("teambot_command_seconds_sum", (("command", "team"),))] < 30
    dingtalk = (("platform", "dingtalk"),)
    assert m[("teambot_outbox_sent_total", dingtalk)] == 1
    assert m[("teambot_outbox_failed_total", dingtalk)] == 1
    assert m[("teambot_outbox_retried_total", dingtalk)] == 1
    assert m[("teambot_outbox_expired_total", dingtalk)] == 1
    status = {st: m[("teambot_outbox_messages", (("platform", "dingtalk"), ("status", st)))]
              for st in ("pending", "sending", "dead", "expired")}
    assert status == {"pending": 2, "sending": 0, "dead": 1, "expired": 1}  # c (retrying) and tomorrow's
    # c was due 90 s ago and still waits; tomorrow's message is not late.
    assert m[("teambot_outbox_oldest_pending_age_seconds", dingtalk)] == 90
    assert m[("teambot_scheduler_seconds_since_tick", ())] == 90
    assert m[("teambot_scheduler_tick_interval_seconds", ())] == 30
    assert m[("teambot_scheduler_tick_lag_seconds", ())] == 60
    assert m[("teambot_database_up", ())] == 1

    # Once c goes out, nothing is overdue.
    clock.advance(hours=1)
    sched.drain()
    m = scrape(ops)
    assert m[("teambot_outbox_oldest_pending_age_seconds", dingtalk)] == 0
    assert m[("teambot_outbox_sent_total", dingtalk)] == 2
    assert m[("teambot_outbox_messages", (("platform", "dingtalk"), ("status", "pending")))] == 1


def test_each_process_has_its_own_registry(uow, clock):
    one = Ops(uow, clock)
    two = Ops(uow, clock)
    one.command("team", "ok", 0.01)
    assert scrape(one)[("teambot_commands_total", (("command", "team"), ("outcome", "ok")))] == 1
    assert ("teambot_commands_total", (("command", "team"), ("outcome", "ok"))) not in scrape(two)


def test_healthz_turns_unhealthy_when_the_scheduler_has_not_ticked_for_three_intervals(uow, clock):
    chat = Chat(uow, clock)
    sched = Scheduler(uow, clock, kinds={}, config=SchedulerConfig(tick_seconds=30))
    _, probes = observe(Settings(platform="slack"), uow, clock, chat.dispatcher, sched)
    http = TestClient(Front(probes=probes).asgi())
    sched.tick()
    clock.advance(seconds=85)
    ok = http.get("/healthz")
    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert ok.json()["scheduler"] == {"seconds_since_tick": 85.0, "tick_seconds": 30}
    clock.advance(seconds=10)  # 95 s: past three intervals
    stalled = http.get("/healthz")
    assert stalled.status_code == 503
    assert stalled.json()["ok"] is False
    assert stalled.json()["reason"] == "the scheduler has not ticked for 95s (every 30s; unhealthy after three)"
    sched.tick()
    assert http.get("/healthz").status_code == 200
    # /metrics is served from the same probes.
    assert "teambot_scheduler_seconds_since_tick 0.0" in http.get("/metrics").text


def test_healthz_turns_unhealthy_when_the_connection_is_down_past_its_limit(uow, clock):
    t = [1000.0]
    watch = ConnectionWatch("dingtalk_stream", monotonic=lambda: t[0])
    ops = Ops(uow, clock, connection=watch, connection_down_seconds=120)
    t[0] += 100
    assert ops.health()[0]  # connecting at start is not yet a failure
    watch.up()
    t[0] += 1000
    assert ops.health() == (True, {"connection": {"name": "dingtalk_stream", "up": True, "down_seconds": 0.0,
                                                  "connects": 1}})
    watch.down("ConnectionClosedError: no close frame received or sent")
    t[0] += 119
    assert ops.health()[0]
    t[0] += 2
    healthy, details = ops.health()
    assert not healthy
    assert details["reason"] == ("the dingtalk_stream connection has been down for 121s (limit 120s): "
                                 "ConnectionClosedError: no close frame received or sent")
    m = scrape(ops)
    assert m[("teambot_connection_up", (("connection", "dingtalk_stream"),))] == 0
    assert m[("teambot_connection_down_seconds", (("connection", "dingtalk_stream"),))] == 121
    watch.up()
    assert ops.health()[0] and watch.connects == 2


# --- the DingTalk Stream connection against a fake gateway ---------------------------------------


class Recording(ChatbotHandler):
    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    async def process(self, callback):
        self.seen.append(callback.headers.message_id)
        return AckMessage.STATUS_OK, "OK"


@pytest.fixture
def gateway(monkeypatch):
    import dingtalk_stream
    g = FakeGateway()
    monkeypatch.setattr(dingtalk_stream.DingTalkStreamClient, "OPEN_CONNECTION_API",
                        g.url + "/v1.0/gateway/connections/open")
    yield g
    g.close()


class Running:
    """The client's loop in a thread of its own, as `teambot run` runs it."""

    def __init__(self, client: WatchedStreamClient):
        self.client = client
        self.loop = asyncio.new_event_loop()
        self.task = self.loop.create_task(client.start())
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


def wait_for(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def stream_client(silence: float = 0.5) -> tuple[WatchedStreamClient, Recording]:
    client = WatchedStreamClient(Credential("key", "secret"), silence_seconds=silence, retry_first=0.01,
                                 retry_cap=0.05)
    handler = Recording()
    client.register_callback_handler("/v1.0/im/bot/messages/get", handler)
    return client, handler


@pytest.mark.parametrize("trouble", ["disconnect", "silent", "fin", "rst"])
def test_the_stream_connection_comes_back_and_takes_messages_again(gateway, trouble):
    gateway.plan(trouble)
    gateway.send(system_frame("ping", "ping-1", {"opaque": "x"}))
    gateway.send(callback_frame("msg-after", {"msgId": "m1"}))
    client, handler = stream_client()
    running = Running(client)
    try:
        wait_for(lambda: handler.seen == ["msg-after"], "the message sent after the reconnect")
        wait_for(lambda: {"ping-1", "msg-after"} <= set(gateway.acks()), "both acknowledged")
        assert gateway.connections == 2 and client.watch.connects == 2 and client.watch.is_up
        if trouble == "disconnect":
            assert "d-1" in gateway.acks()  # the disconnect frame was acknowledged before leaving
    finally:
        running.stop()


def test_a_dropped_stream_connection_turns_healthz_unhealthy(gateway, clock):
    client, handler = stream_client(silence=30)
    ops = Ops(lambda: None, clock, connection=client.watch, connection_down_seconds=0.3)  # health reads no database
    running = Running(client)
    try:
        wait_for(lambda: client.watch.is_up, "the first connection")
        assert ops.health()[0]
        gateway.http.shutdown()  # the gateway opens no connection any more
        gateway.http.server_close()
        gateway._stop.set()  # and the one that was up ends
        wait_for(lambda: not ops.health()[0], "/healthz to say unhealthy")
        healthy, details = ops.health()
        assert "the dingtalk_stream connection has been down" in details["reason"]
        assert details["connection"]["up"] is False
    finally:
        running.stop()


def test_socket_mode_tells_the_watch_whether_the_client_is_connected():
    from bot.slack.socket import watch_connection

    class Client:
        connected = False

        def is_connected(self) -> bool:
            return self.connected

    client, watch, done = Client(), ConnectionWatch("slack_socket_mode"), threading.Event()
    thread = threading.Thread(target=watch_connection, args=(client, watch, done, 0.01), daemon=True)
    thread.start()
    try:
        client.connected = True
        wait_for(lambda: watch.is_up, "up")
        client.connected = False
        wait_for(lambda: not watch.is_up, "down")
        assert watch.reason == "the Socket Mode session closed; the client is reconnecting"
        client.connected = True
        wait_for(lambda: watch.is_up, "up again")
        assert watch.connects == 2
    finally:
        done.set()
        thread.join(5)


@pytest.mark.parametrize("platform,connection", [
    ({"platform": "dingtalk", "dingtalk": DingTalkSettings(app_key="k", app_secret="s")}, "dingtalk_stream"),
    ({"platform": "dingtalk", "dingtalk": DingTalkSettings(app_key="k", app_secret="s", mode="http")}, None),
    ({"platform": "slack", "slack": SlackSettings(bot_token="xoxb-1", signing_secret="s", app_token="xapp-1")},
     "slack_socket_mode"),
    ({"platform": "slack", "slack": SlackSettings(bot_token="xoxb-1", signing_secret="s")}, None),
])
def test_teambot_run_wires_metrics_and_health_to_the_dispatcher_scheduler_and_connection(sqlite_url, platform,
                                                                                        connection):
    from bot.wiring import operations, scheduler, wire

    w = wire(Settings(database_url=sqlite_url, **platform))
    try:
        sched = scheduler(w, None)
        ops = operations(w, sched)
        assert (w.probes.connection.name if w.probes.connection else None) == connection
        assert ops.connection is w.probes.connection and ops.scheduler is sched
        assert w.dispatcher.on_command == ops.command and sched.on_drain == ops.drained
        body, _ = w.probes.metrics()
        assert f'teambot_outbox_sent_total{{platform="{platform["platform"]}"}} 0.0' in body.decode()
    finally:
        w.engine.dispose()


def test_a_scrape_reads_the_outbox_through_the_status_index_not_the_sent_rows(sqlite_url):
    from sqlalchemy import event

    from storage.db import make_engine
    from storage.uow import uow_factory

    engine = make_engine(sqlite_url)
    plans: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def explain(conn, cursor, statement, parameters, context, executemany):
        if "outbox_message" in statement and "GROUP BY" in statement:
            plans.extend(row[3] for row in cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters))

    try:
        scrape(Ops(uow_factory(engine), SystemClock(), platforms=["slack"]))
        assert plans and any("USING INDEX ix_outbox_status_due" in p for p in plans), plans
        assert not any(p.startswith("SCAN outbox_message") for p in plans), plans
    finally:
        engine.dispose()

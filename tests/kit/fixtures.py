"""Slack test fixtures and a harness that drives the real Bolt app the way Slack does.

Use them from any test package's conftest.py:

    from tests.kit.fixtures import fake_slack, slack  # noqa: F401  (pytest fixtures)

    def test_something(slack):
        slack.fake.set_user("U1", locale="zh-CN")
        answer = slack.slash("/progress", "签约ACME 销售额=50万", user="U1", channel="C1")
        assert answer.ephemeral and "50" in answer.text

`slack` is a SlackHarness: the real Bolt app (bot.slack.app.build_app) behind the real Starlette
app (bot.slack.server.build_asgi), called through starlette's TestClient with signed bodies, with
the Web API pointed at a FakeSlack and a real (SQLite) database. Build one yourself for other
databases: `SlackHarness(fake, db_url, clock)`.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

with warnings.catch_warnings():
    # starlette 1.x nudges towards httpx2; httpx is what the venv has and it works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bot.config import Settings, SlackSettings
from bot.slack.app import build_app, runs_inline
from bot.slack.render import unescape
from bot.slack.server import build_asgi
from bot.slack.users import UserDirectory
from bot.wiring import Wiring, on_loop
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher
from storage.db import make_engine
from storage.uow import uow_factory
from tests.kit.fake_slack import FakeSlack
from tests.kit.slack_signing import (
    SECRET,
    action_body,
    dm_event,
    event_body,
    message_shortcut_body,
    new_trigger_id,
    signed_headers,
    slash_body,
    view_submission_body,
)

BOT_TOKEN = "xoxb-test-token"


def payload_text(payload: dict) -> str:
    """Everything a person would read in a Slack message payload (text, sections, fields,
    context, button labels), unescaped, one piece per line."""
    out: list[str] = []
    if payload.get("text"):
        out.append(payload["text"])
    for b in payload.get("blocks") or []:
        if isinstance(b.get("text"), dict):
            out.append(b["text"].get("text", ""))
        for f in b.get("fields") or []:
            out.append(f.get("text", ""))
        for e in b.get("elements") or []:
            if isinstance(e.get("text"), dict):
                out.append(e["text"].get("text", ""))
            elif isinstance(e.get("text"), str):
                out.append(e["text"])
    return unescape("\n".join(out))


@dataclass
class Answer:
    """Slack's view of our HTTP answer to one delivery."""
    status: int
    body: str
    headers: dict
    #: For a view submission: the view it submitted (errors must name its inputs).
    view: dict | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.body) if self.body.strip().startswith("{") else {}

    @property
    def response_type(self) -> str | None:
        return self.json.get("response_type")

    @property
    def ephemeral(self) -> bool:
        return self.response_type == "ephemeral"

    @property
    def blocks(self) -> list[dict]:
        return self.json.get("blocks") or []

    @property
    def text(self) -> str:
        return payload_text(self.json)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, to prove that something (or nothing) was written. Delivery receipts aside:
    every delivery keeps one, refused or not, so that a redelivery is answered once."""
    with engine.connect() as c:
        return {t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables if t.name != "inbound_receipt"}


class SlackHarness:
    def __init__(self, fake: FakeSlack, db_url: str, clock: Clock, *, secret: str = SECRET,
                 default_lang: str = "zh", users_info_timeout: float = 1.0,
                 user_cache_seconds: int = 3600, dispatcher: Dispatcher | None = None):
        self.fake = fake
        self.clock = clock
        self.secret = secret
        self.engine = make_engine(db_url)
        self.dispatcher = dispatcher or Dispatcher(uow_factory(self.engine), clock, default_lang=default_lang)
        self.settings = Settings(
            platform="slack", database_url=db_url, default_lang=default_lang,
            slack=SlackSettings(bot_token=BOT_TOKEN, signing_secret=secret, api_url=fake.url,
                                users_info_timeout=users_info_timeout,
                                user_cache_seconds=user_cache_seconds))
        # As run_slack wires it: typed commands from known users on the event loop (SQLite: with
        # group commit; PostgreSQL: statements awaited); the rest in threads.
        self.users = UserDirectory.from_settings(self.settings)
        self.app = build_app(self.settings, self.dispatcher, clock, users=self.users)
        self.dispatch = {"inline": runs_inline(self.users),
                         "on_loop": on_loop(Wiring(self.settings, self.engine, None, clock, self.dispatcher))}
        self.asgi = build_asgi(self.app, **self.dispatch)
        self.client = TestClient(self.asgi, raise_server_exceptions=False)
        #: Every HTTP answer given, to check them all against Slack's limits (tests/kit/block_limits).
        self.http_answers: list[Answer] = []

    def close(self) -> None:
        self.client.close()
        self.dispatch["on_loop"].close()
        self.engine.dispose()

    def post(self, body: str, headers: dict | None = None, *, secret: str | None = None,
             timestamp: int | None = None, retry_num: int | None = None) -> Answer:
        """POST a body to /slack/events, signed unless `headers` are given."""
        if headers is None:
            headers = signed_headers(body, secret or self.secret, timestamp, retry_num=retry_num)
        r = self.client.post("/slack/events", content=body.encode(), headers=headers)
        answer = Answer(r.status_code, r.text, dict(r.headers))
        self.http_answers.append(answer)
        return answer

    def slash(self, command: str, text: str = "", user: str = "U1", channel: str = "C1", *,
              trigger_id: str | None = None, retry_num: int | None = None, timestamp: int | None = None,
              secret: str | None = None, **kw) -> Answer:
        body = slash_body(command, text, user, channel, trigger_id=trigger_id or new_trigger_id(), **kw)
        return self.post(body, secret=secret, timestamp=timestamp, retry_num=retry_num)

    def click(self, value: str, user: str = "U1", channel: str | None = "C1", *,
              action_id: str = "tb:click:0", response_token: str = "r1", **kw) -> Answer:
        """A button click; the bot answers on the response_url (see fake.responses(token))."""
        kw.setdefault("response_url", self.fake.response_url(response_token))
        return self.post(action_body(value, action_id, user, channel, **kw))

    def event(self, event: dict, event_id: str | None = None, *, retry_num: int | None = None) -> Answer:
        return self.post(event_body(event, event_id), retry_num=retry_num)

    def dm(self, text: str, user: str = "U1", channel: str = "D1", **kw) -> Answer:
        return self.event(dm_event(text, user, channel), **kw)

    def submit(self, view: dict, values: dict | None = None, user: str = "U1", *, view_id: str | None = None,
               retry_num: int | None = None) -> Answer:
        """Submit a modal we opened (`view`, as views.open got it) with `values` (field -> value)."""
        body = view_submission_body(view, values, user, view_id=view_id or f"V{id(view) % 10**8:08d}")
        answer = self.post(body, retry_num=retry_num)
        answer.view = view
        return answer

    def shortcut(self, text: str, user: str = "U1", channel: str = "C1", **kw) -> Answer:
        """The message shortcut "Create task from message" on a message saying `text`."""
        kw.setdefault("response_url", self.fake.response_url("shortcut"))
        return self.post(message_shortcut_body(text, user, channel, **kw))

    def home(self, user: str = "U1") -> Answer:
        """`app_home_opened` for `user` (the bot answers with views.publish)."""
        return self.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home",
                           "event_ts": "1764122400.000100"})

    def views(self, method: str = "views.open") -> list[dict]:
        """The views sent with `method`, in order."""
        return [c.json("view") for c in self.fake.calls(method)]

    def counts(self) -> dict[str, int]:
        return row_counts(self.engine)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack; its `.url` is the SLACK_API_URL."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack(fake_slack, sqlite_url, clock) -> Iterator[SlackHarness]:
    """The Slack adapter end to end (in process), on a fresh SQLite database."""
    h = SlackHarness(fake_slack, sqlite_url, clock)
    yield h
    h.close()

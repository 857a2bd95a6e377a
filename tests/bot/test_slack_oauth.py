"""Optional multi-workspace mode (issue 6): Slack OAuth with the installations kept in our database
(slack_sdk's SQLAlchemy installation and state stores). Off by default; on with SLACK_CLIENT_ID and
SLACK_CLIENT_SECRET. "Add to Slack" (/slack/install) -> Slack -> /slack/oauth_redirect (code
exchanged with oauth.v2.access on FakeSlack) -> the installation stored -> requests from that
workspace run with its own bot token."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import inspect, text

pytest.importorskip("greenlet", reason="slack_sdk's SQLAlchemy stores need greenlet (pyproject: add it)")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bot.config import Settings, SlackSettings
from bot.slack.app import build_app
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH, oauth_enabled
from bot.slack.server import build_asgi
from commands.core.dispatch import Dispatcher
from storage.db import make_engine
from storage.uow import uow_factory
from tests.kit.block_limits import assert_within_limits
from tests.kit.fixtures import Answer, payload_text
from tests.kit.slack_signing import SECRET, signed_headers, slash_body

CLIENT_ID = "1111.2222"


@dataclass(frozen=True)
class OAuthSlackSettings(SlackSettings):
    """SlackSettings with the OAuth fields proposed for bot/config.py (read with getattr there)."""
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None


def authorize_url(page: str) -> str:
    """The "Add to Slack" link of the install page."""
    return re.search(r'href="(https://slack\.com/oauth/v2/authorize[^"]+)"', page).group(1).replace("&amp;", "&")


class OAuthHarness:
    def __init__(self, fake, db_url: str, clock, *, oauth: bool = True):
        self.fake = fake
        self.engine = make_engine(db_url)
        slack = OAuthSlackSettings(signing_secret=SECRET, api_url=fake.url,
                                   client_id=CLIENT_ID if oauth else None,
                                   client_secret="shh" if oauth else None,
                                   bot_token=None if oauth else "xoxb-single")
        self.settings = Settings(platform="slack", database_url=db_url, slack=slack)
        self.dispatcher = Dispatcher(uow_factory(self.engine), clock)
        self.app = build_app(self.settings, self.dispatcher, clock, engine=self.engine)
        self.client = TestClient(build_asgi(self.app), raise_server_exceptions=False, base_url="https://testserver")
        self.answers: list[Answer] = []

    def slash(self, command: str, text_: str, user: str, channel: str, team: str) -> Answer:
        body = slash_body(command, text_, user, channel, team_id=team)
        r = self.client.post("/slack/events", content=body.encode(), headers=signed_headers(body))
        answer = Answer(r.status_code, r.text, dict(r.headers))
        self.answers.append(answer)
        return answer

    def install(self, code: str) -> tuple[int, str]:
        page = self.client.get(INSTALL_PATH)
        assert page.status_code == 200, page.text
        state = parse_qs(urlsplit(authorize_url(page.text)).query)["state"][0]
        r = self.client.get(REDIRECT_PATH, params={"code": code, "state": state})
        return r.status_code, r.text

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()


@pytest.fixture
def oauth(fake_slack, sqlite_url, clock):
    h = OAuthHarness(fake_slack, sqlite_url, clock)
    yield h
    assert_within_limits(h.fake, h.answers)
    h.close()


def test_off_by_default():
    assert not oauth_enabled(Settings())
    assert not oauth_enabled(Settings(slack=OAuthSlackSettings(client_id="x")))
    assert oauth_enabled(Settings(slack=OAuthSlackSettings(client_id="x", client_secret="y")))


def test_no_install_routes_in_single_workspace_mode(fake_slack, sqlite_url, clock):
    h = OAuthHarness(fake_slack, sqlite_url, clock, oauth=False)
    try:
        assert h.app.oauth_flow is None
        assert h.client.get(INSTALL_PATH).status_code == 404
        assert "slack_installations" not in inspect(h.engine).get_table_names()
    finally:
        h.close()


def test_install_page_links_to_slack_with_our_scopes_and_a_state_cookie(oauth):
    r = oauth.client.get(INSTALL_PATH)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    url = authorize_url(r.text)
    assert url.startswith("https://slack.com/oauth/v2/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "im:write", "users:read"}
    assert "slack-app-oauth-state" in r.headers.get("set-cookie", "")
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= set(inspect(oauth.engine).get_table_names())


def test_an_installed_workspace_is_served_with_its_own_token(oauth):
    oauth.fake.add_install("code-9", team_id="T9", token="xoxb-workspace-9")
    status, page = oauth.install("code-9")
    assert status == 200, page
    [exchange] = oauth.fake.calls("oauth.v2.access")
    assert exchange.params["code"] == "code-9"
    with oauth.engine.connect() as c:
        rows = c.execute(text("select team_id, bot_token from slack_installations")).all()
    assert [tuple(r) for r in rows] == [("T9", "xoxb-workspace-9")]

    oauth.fake.set_user("U900", locale="zh-CN", tz="Asia/Shanghai")
    answer = oauth.slash("/team", "setup 新公司销售部", "U900", "C900", team="T9")
    assert answer.status == 200 and "新公司销售部" in payload_text(answer.json)
    lookups = oauth.fake.calls("users.info")
    assert lookups and {c.token for c in lookups} == {"xoxb-workspace-9"}


def test_a_workspace_that_never_installed_is_refused_and_nothing_is_written(oauth):
    answer = oauth.slash("/team", "setup 陌生团队", "U1", "C1", team="T404")
    assert answer.status in (200, 401) and "Traceback" not in answer.body
    with oauth.engine.connect() as c:
        assert c.execute(text("select count(*) from team")).scalar_one() == 0


def test_a_redirect_without_a_valid_state_installs_nothing(oauth):
    oauth.fake.add_install("code-x", team_id="T8")
    r = oauth.client.get(REDIRECT_PATH, params={"code": "code-x", "state": "forged"})
    assert r.status_code >= 400
    assert oauth.fake.calls("oauth.v2.access") == []
    with oauth.engine.connect() as c:
        assert c.execute(text("select count(*) from slack_installations")).scalar_one() == 0

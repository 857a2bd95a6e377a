"""The Bolt app: Slack payloads -> Invocation -> Dispatcher.handle() -> Block Kit.

Every listener is a small converter (bot/slack/listeners/, one module per kind); the core decides
everything (team, permission, language, dedupe of retries by `Invocation.delivery_key`). We answer
inside Slack's 3-second ack (`process_before_response=True`): the core is fast, and an in-band
answer cannot get lost the way a later `response_url` post can. Nothing a listener does may raise
into Bolt, and no traceback ever reaches Slack.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack import listeners
from bot.slack.bridge import SlackBridge
from bot.slack.oauth import oauth_settings
from bot.slack.users import UserDirectory
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher

log = logging.getLogger("teambot.slack")


def api_base_url(api_url: str | None) -> str:
    """SLACK_API_URL (or Slack's own) as WebClient wants it: with a trailing slash."""
    url = (api_url or WebClient.BASE_URL).strip()
    return url if url.endswith("/") else url + "/"


class BotIdentity:
    """Bolt `authorize` for our single workspace: the bot token plus, once known, the bot's own
    user id from `auth.test` (Bolt uses it to ignore the bot's own events).

    Unlike Bolt's built-in single-team authorization, `auth.test` never holds up or fails a
    request (no 5xx to Slack, no minute-long first ack): it runs in the background on the first
    request; until it answers we go on without the bot user id (our listeners also skip
    anything with a bot_id), and after a failure it is asked again a minute later."""

    def __init__(self, token: str | None, client: WebClient, *, retry_after: float = 60.0):
        self._token = token
        self._client = client
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._auth: dict | None = None
        self._next_try = 0.0
        self._fetching = False

    def __call__(self, enterprise_id, team_id, user_id) -> AuthorizeResult:
        auth = self.auth or {}
        if self._auth is None:
            self._start_fetch()
        return AuthorizeResult(
            enterprise_id=enterprise_id or auth.get("enterprise_id"),
            team_id=team_id or auth.get("team_id"),
            user_id=user_id,
            bot_token=self._token,
            bot_user_id=auth.get("user_id"),
            bot_id=auth.get("bot_id"),
        )

    @property
    def auth(self) -> dict | None:
        """The auth.test answer, once there is one."""
        return self._auth

    def _start_fetch(self) -> None:
        with self._lock:
            if self._fetching or self._auth is not None or time.monotonic() < self._next_try:
                return
            self._fetching = True
        threading.Thread(target=self.fetch, name="auth-test", daemon=True).start()

    def fetch(self) -> dict | None:
        """Ask auth.test now (blocking); remember the answer."""
        try:
            auth = dict(self._client.auth_test(token=self._token).data)
            with self._lock:
                self._auth = auth
            return auth
        except Exception as e:  # noqa: BLE001 - any failure: go on without it
            log.warning("auth.test failed (%s: %s); continuing without the bot user id",
                        type(e).__name__, str(e).split("\n")[0][:200])
            with self._lock:
                self._next_try = time.monotonic() + self._retry_after
            return None
        finally:
            with self._lock:
                self._fetching = False


class _QuietTokenWarning(logging.Filter):
    """Bolt warns that the token is ignored when `authorize` is given, and that it is unused when
    SLACK_BOT_TOKEN is in the environment (Bolt reads it too) besides the client we give it. Neither
    is so (BotIdentity hands the token to every request; the client carries it), so the warnings would
    only mislead an operator, at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "will be ignored" not in message and "will be unused" not in message


def runs_inline(users: UserDirectory) -> Callable[[dict], bool]:
    """Which HTTP deliveries the server may hand to Bolt on its event-loop thread (see
    bot.slack.server.build_asgi), judged on the body as Bolt parsed it: a typed slash command from
    someone whose profile is cached. It calls no Slack API (a bare command opens a modal, a new
    user needs users.info: those go to the thread pool, as do buttons, forms and events, whose
    bodies have no `command`); what is left is the core's short database work."""
    def check(body: dict) -> bool:
        command, text, user = body.get("command"), body.get("text"), body.get("user_id")
        return (isinstance(command, str) and command.startswith("/") and isinstance(text, str)
                and bool(text.strip()) and isinstance(user, str) and users.cached(user))
    return check


def build_app(settings: Settings, dispatcher: Dispatcher, clock: Clock, *,
              users: UserDirectory | None = None, engine=None, verified_upstream: bool = False) -> App:
    """The Bolt app. With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set it serves several workspaces
    (Slack OAuth; installations kept in our database, `engine`); else the one workspace of
    SLACK_BOT_TOKEN. `verified_upstream`: the HTTP server in front has checked each request's
    signature already (bot.slack.server), so Bolt need not do it twice."""
    app = _bolt_app(settings, engine, verified_upstream)
    bridge = SlackBridge(dispatcher, clock, users or UserDirectory.from_settings(settings),
                         default_lang=settings.default_lang)
    listeners.register(app, bridge)
    return app


def _bolt_app(settings: Settings, engine, verified_upstream: bool) -> App:
    slack = settings.slack
    base_url = api_base_url(slack.api_url)
    bolt_log = logging.getLogger("teambot.slack.bolt")
    if not any(isinstance(f, _QuietTokenWarning) for f in bolt_log.filters):
        bolt_log.addFilter(_QuietTokenWarning())
    common = dict(name="teambot", signing_secret=slack.signing_secret or "", process_before_response=True,
                  request_verification_enabled=not verified_upstream, logger=bolt_log)
    oauth = oauth_settings(settings, engine=engine)
    if oauth is not None:
        # Each request's token comes from the installation of its workspace (Bolt's authorize).
        return App(client=WebClient(base_url=base_url), oauth_settings=oauth, **common)
    identity = BotIdentity(slack.bot_token, WebClient(token=slack.bot_token, base_url=base_url, timeout=10,
                                                      retry_handlers=[]))

    def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
        return identity(enterprise_id, team_id, user_id)

    return App(client=WebClient(token=slack.bot_token, base_url=base_url), authorize=authorize,
               token_verification_enabled=False, **common)


__all__ = ["BotIdentity", "api_base_url", "build_app", "runs_inline"]

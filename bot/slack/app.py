"""The Bolt app: Slack payloads -> Invocation -> Dispatcher.handle() -> Block Kit.

Every listener is a small converter; the core decides everything (team, permission, language,
dedupe of retries by `Invocation.delivery_key`). We answer inside Slack's 3-second ack
(`process_before_response=True`): the core is fast, and an in-band answer cannot get lost the
way a later `response_url` post can.

Listeners:
  * one slash-command listener per route in commands.router.ROUTES (`/team`, `/progress`, ...),
    plus a catch-all so a command configured in Slack but unknown here gets a usage reply, not 404;
  * `^tb:` block actions: the button's value is a command text, run as the *clicking* user;
  * direct messages to the bot (`message.im`): the text is run as a command, answered with say();
  * `app_home_opened`: publishes the Home tab with the help text.
Nothing a listener does may raise into Bolt, and no traceback ever reaches Slack.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.render import ACTION_PREFIX, blocks, message_payload, unescape
from bot.slack.users import Profile, UserDirectory
from commands.clock import Clock
from commands.context import Actor, Invocation
from commands.dispatch import Dispatcher
from commands.i18n import normalize_lang
from commands.reply import Reply
from commands.router import ROUTES, split_command

log = logging.getLogger("teambot.slack")

PLATFORM = "slack"
#: Shown when something failed below the core (the core has its own, localised, incident message).
GENERIC_ERROR = "⚠️ 出了点问题，请稍后再试。 / Something went wrong, please try again."
HOME_TITLE = "teambot"
HOME_SUBTITLE = "销售团队协作助手 · sales team routine: progress, tasks, resources, goals, KPIs"


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
    """Bolt warns that the token is ignored when `authorize` is given; it is not (BotIdentity
    hands it to every request), so the warning would only mislead an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage()


class _Seen:
    """Event ids this process already answered, so a Slack retry of an event we handled (slowly)
    does not say() the stored reply a second time. Bounded and thread-safe."""

    def __init__(self, size: int = 10_000):
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._ids:
                return False
            self._ids[key] = None
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._ids.pop(key, None)


class SlackBridge:
    """Builds Invocations from Slack payloads and runs them through the Dispatcher, guarded."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock, users: UserDirectory):
        self.dispatcher = dispatcher
        self.clock = clock
        self.users = users

    def invocation(self, *, user_id: str, channel_id: str, command: str, text: str,
                   delivery_key: str | None, user_name: str = "", direct: bool = False,
                   profile: Profile | None = None) -> Invocation:
        profile = profile if profile is not None else self.users.get(user_id)
        actor = Actor(platform=PLATFORM, user_id=user_id, name=profile.name or user_name or "",
                      locale=profile.locale, tz=profile.tz)
        return Invocation(actor=actor, channel=channel_id or "", command=command, text=text,
                          received_at=self.clock.now(), delivery_key=delivery_key or None,
                          direct=direct or is_direct(channel_id))

    def run(self, inv: Invocation) -> Reply:
        try:
            return self.dispatcher.handle(inv)
        except Exception:  # the dispatcher catches; this is the last guard
            log.exception("dispatcher raised: user=%s command=%s", inv.actor.user_id, inv.command)
            return Reply.text(GENERIC_ERROR, ok=False)


def is_direct(channel_id: str | None, channel_name: str | None = None) -> bool:
    return channel_name == "directmessage" or bool(channel_id and channel_id.startswith("D"))


def response_type(reply: Reply) -> str:
    return "ephemeral" if reply.private else "in_channel"


def _lang(inv: Invocation) -> str | None:
    return normalize_lang(inv.actor.locale)


def build_app(settings: Settings, dispatcher: Dispatcher, clock: Clock, *,
              users: UserDirectory | None = None) -> App:
    s = settings.slack
    base_url = api_base_url(s.api_url)
    client = WebClient(token=s.bot_token, base_url=base_url)
    identity = BotIdentity(s.bot_token, WebClient(token=s.bot_token, base_url=base_url, timeout=10,
                                                  retry_handlers=[]))

    def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
        return identity(enterprise_id, team_id, user_id)

    bolt_log = logging.getLogger("teambot.slack.bolt")
    if not any(isinstance(f, _QuietTokenWarning) for f in bolt_log.filters):
        bolt_log.addFilter(_QuietTokenWarning())
    app = App(
        name="teambot",
        signing_secret=s.signing_secret or "",
        client=client,
        authorize=authorize,
        process_before_response=True,
        token_verification_enabled=False,
        logger=bolt_log,
    )
    bridge = SlackBridge(dispatcher, clock, users or UserDirectory.from_settings(settings))
    seen = _Seen()

    # -- slash commands -------------------------------------------------------------------
    def on_command(ack, body: dict) -> None:
        try:
            user_id = body.get("user_id") or ""
            inv = bridge.invocation(
                user_id=user_id, channel_id=body.get("channel_id") or "",
                command=(body.get("command") or "").lstrip("/"),
                text=unescape(body.get("text") or ""),
                delivery_key=body.get("trigger_id"), user_name=body.get("user_name") or "",
                direct=is_direct(body.get("channel_id"), body.get("channel_name")))
            reply = bridge.run(inv)
            ack(response_type=response_type(reply), **message_payload(reply, _lang(inv)))
        except Exception:
            log.exception("slash command failed: %s", body.get("command"))
            ack(response_type="ephemeral", text=GENERIC_ERROR)

    for route in ROUTES:
        app.command(f"/{route.name}")(on_command)
    # Any other command pointed at us (a renamed or future one): the core answers with usage.
    app.command(re.compile(r"^/"))(on_command)

    # Buttons and events: the work (core + one Web API call) is done before the HTTP answer
    # goes back, so when Slack (or a test) gets the 200, the change is committed and the answer
    # posted. Both are fast; users.info is bounded and the core is quick.

    # -- buttons ----------------------------------------------------------------------------
    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    def on_action(ack, body: dict, action: dict, respond, client: WebClient) -> None:
        ack()
        user_id = ((body.get("user") or {}).get("id")) or ""
        try:
            # Only the command text and the clicking user are taken from the payload; the core
            # re-parses the command and re-checks the permission as that user.
            name, text = split_command(action.get("value") or "")
            channel_id = (body.get("channel") or {}).get("id") or ""
            trigger = body.get("trigger_id")
            inv = bridge.invocation(user_id=user_id, channel_id=channel_id, command=name, text=text,
                                    delivery_key=f"action:{trigger}" if trigger else None)
            reply = bridge.run(inv)
            payload = message_payload(reply, _lang(inv))
        except Exception:
            log.exception("button failed: %s", action.get("action_id"))
            reply, payload = None, {"text": GENERIC_ERROR}
        try:
            if body.get("response_url"):
                respond(response_type=response_type(reply) if reply else "ephemeral",
                        replace_original=False, **payload)
            elif user_id:
                # A Home-tab button has no response_url: answer in the user's DM with the bot.
                client.chat_postMessage(channel=user_id, **payload)
        except Exception:
            log.exception("could not deliver the answer to a button click by %s", user_id)

    # -- direct messages --------------------------------------------------------------------
    # Every message event is acknowledged (a 404 would make Slack retry); only DMs from people run.
    @app.event("message")
    def on_message(event: dict, body: dict, say, context) -> None:
        if (event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id")
                or not event.get("user") or event.get("user") == context.get("bot_user_id")):
            return
        event_id = body.get("event_id") or ""
        if event_id and not seen.claim(event_id):
            return
        try:
            name, text = split_command(unescape(event.get("text") or ""))
            inv = bridge.invocation(user_id=event["user"], channel_id=event.get("channel") or "",
                                    command=name, text=text, delivery_key=event_id or None,
                                    direct=True)
            reply = bridge.run(inv)
            extra = {"thread_ts": event["thread_ts"]} if event.get("thread_ts") else {}
            say(**message_payload(reply, _lang(inv)), **extra)
        except Exception:
            if event_id:
                seen.release(event_id)
            log.exception("direct message from %s failed", event.get("user"))

    # -- App Home -----------------------------------------------------------------------------
    @app.event("app_home_opened")
    def on_home(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        try:
            inv = bridge.invocation(user_id=event["user"], channel_id=event.get("channel") or "",
                                    command="teambot", text="help", delivery_key=None, direct=True)
            reply = bridge.run(inv)
            client.views_publish(user_id=event["user"], view=home_view(reply, _lang(inv)))
        except Exception:
            log.exception("could not publish the Home tab for %s", event.get("user"))

    # -- last resort ----------------------------------------------------------------------------
    @app.error
    def on_error(error: Exception, body: dict) -> BoltResponse:
        log.error("unhandled error in the Slack app: %s: %s", type(error).__name__, error,
                  exc_info=error)
        if isinstance(body, dict) and body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": GENERIC_ERROR})
        return BoltResponse(status=200, body="")

    return app


def home_view(reply: Reply, lang: str | None = None) -> dict:
    """The Home tab: a title, a line saying what the bot is for, then the help reply."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": HOME_TITLE}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": HOME_SUBTITLE}]},
            {"type": "divider"},
            *blocks(reply, lang, max_blocks=97),  # a Home view holds 100 blocks
        ],
    }


__all__ = ["BotIdentity", "SlackBridge", "api_base_url", "build_app", "home_view", "is_direct"]

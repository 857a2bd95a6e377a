"""The Bolt app: Slack payloads -> Invocation -> Dispatcher.handle() -> Block Kit.

Every listener is a small converter; the core decides everything (team, permission, language,
dedupe of retries by `Invocation.delivery_key`). We answer inside Slack's 3-second ack
(`process_before_response=True`): the core is fast, and an in-band answer cannot get lost the
way a later `response_url` post can.

Listeners:
  * one slash-command listener for every command: the routes of commands.core.router.ROUTES (`/team`,
    `/progress`, ...) and any other configured in Slack but unknown here, which gets a usage reply,
    not a 404.
    A bare `/task`, `/progress`, `/resource` or `/goal` gets a form from the core
    (commands/core/forms.py), opened as a modal with the command's trigger_id;
  * `^tb:` block actions: the button's value is a command text, run as the *clicking* user; a
    bare command opens its form; the Home tab's paging buttons re-publish the tab; after every
    click the clicker's Home tab is re-published;
  * `^tb:form:` view submissions: the values become the typed command (forms.compose) and run
    as the submitting user, deduped by view id + command; a refusal comes back as
    `response_action: errors` on the field it is about, a success closes the modal and is
    answered privately (ephemeral in the channel, else a DM);
  * the message shortcut `create_task_from_message`: the task form, prefilled with the message
    and its permalink;
  * direct messages to the bot (`message.im`): the text is run as a command, answered with say();
  * `app_home_opened`: publishes the Home tab (commands/core/home.py: my tasks, KPIs, approvals, meeting).
Nothing a listener does may raise into Bolt, and no traceback ever reaches Slack.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.kit.markup import plain
from bot.kit.notices import generic_error, notice
from bot.slack.modals import CALLBACK_PREFIX, errors, input_ids, modal_view, read_metadata, submitted_values
from bot.slack.oauth import oauth_settings
from bot.slack.render import ACTION_PREFIX, blocks, message_payload, unescape
from bot.slack.users import Profile, UserDirectory
from commands.core import forms, home
from commands.core.clock import Clock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Form, Reply
from commands.core.router import split_command
from commands.i18n import normalize_lang, t

log = logging.getLogger("teambot.slack")

PLATFORM = "slack"
HOME_TITLE = "teambot"
#: callback_id of the message shortcut (the manifest declares it).
TASK_FROM_MESSAGE = "create_task_from_message"
#: A task made from a message takes the message's first line, cut to this, as its title.
TITLE_FROM_MESSAGE = 100


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

    def __init__(self, dispatcher: Dispatcher, clock: Clock, users: UserDirectory, *, default_lang: str = "zh"):
        self.dispatcher = dispatcher
        self.clock = clock
        self.users = users
        self.default_lang = default_lang

    def invocation(self, *, user_id: str, channel_id: str, command: str, text: str,
                   delivery_key: str | None, user_name: str = "", direct: bool = False,
                   profile: Profile | None = None, token: str | None = None) -> Invocation:
        profile = profile if profile is not None else self.users.get(user_id, token=token)
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
            return Reply.text(generic_error(), ok=False)

    def _person(self, user_id: str, channel: str, token: str | None) -> Invocation:
        return self.invocation(user_id=user_id, channel_id=channel, command="home", text="",
                               delivery_key=None, direct=not channel, token=token)

    def home(self, user_id: str, *, page: int = 1, token: str | None = None) -> tuple[Reply, str | None]:
        """The Home tab's content for the person, in their language."""
        return self.dispatcher.home(self._person(user_id, "", token), page=page)

    def lang(self, user_id: str, channel: str = "", *, token: str | None = None) -> str:
        """The language the core answers this person in (their choice, the team's, Slack's)."""
        try:
            return self.dispatcher.language(self._person(user_id, channel, token))
        except Exception:  # a language is never worth failing for
            log.exception("could not tell the language of %s", user_id)
            return self.default_lang


def is_direct(channel_id: str | None, channel_name: str | None = None) -> bool:
    return channel_name == "directmessage" or bool(channel_id and channel_id.startswith("D"))


def response_type(reply: Reply) -> str:
    return "ephemeral" if reply.private else "in_channel"


def _lang(inv: Invocation) -> str | None:
    return normalize_lang(inv.actor.locale)


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
    (Slack OAuth; installations kept in our database, `engine`); else
    the one workspace of SLACK_BOT_TOKEN. `verified_upstream`: the HTTP server in front has checked
    each request's signature already (bot.slack.server), so Bolt need not do it twice."""
    s = settings.slack
    base_url = api_base_url(s.api_url)
    bolt_log = logging.getLogger("teambot.slack.bolt")
    if not any(isinstance(f, _QuietTokenWarning) for f in bolt_log.filters):
        bolt_log.addFilter(_QuietTokenWarning())
    oauth = oauth_settings(settings, engine=engine)
    if oauth is not None:
        # Each request's token comes from the installation of its workspace (Bolt's authorize).
        app = App(name="teambot", signing_secret=s.signing_secret or "", client=WebClient(base_url=base_url),
                  oauth_settings=oauth, process_before_response=True, logger=bolt_log,
                  request_verification_enabled=not verified_upstream)
    else:
        client = WebClient(token=s.bot_token, base_url=base_url)
        identity = BotIdentity(s.bot_token, WebClient(token=s.bot_token, base_url=base_url, timeout=10,
                                                      retry_handlers=[]))

        def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
            return identity(enterprise_id, team_id, user_id)

        app = App(
            name="teambot",
            signing_secret=s.signing_secret or "",
            client=client,
            authorize=authorize,
            process_before_response=True,
            token_verification_enabled=False,
            request_verification_enabled=not verified_upstream,
            logger=bolt_log,
        )
    bridge = SlackBridge(dispatcher, clock, users or UserDirectory.from_settings(settings),
                         default_lang=settings.default_lang)
    seen = _Seen()

    def token_of(context) -> str | None:
        try:
            return context.get("bot_token") if context is not None else None
        except Exception:  # noqa: BLE001 - a token is only a hint for users.info
            return None

    def open_modal(client: WebClient, trigger_id: str | None, form: Form, channel: str | None) -> bool:
        """views.open; False when it could not (then the caller shows the usage card instead)."""
        if not trigger_id:
            return False
        try:
            client.views_open(trigger_id=trigger_id, view=modal_view(form, channel))
            return True
        except Exception as e:  # noqa: BLE001 - an expired trigger, a Slack hiccup: the card instead
            log.warning("views.open failed (%s: %s); answering with the usage card", type(e).__name__,
                        str(e).split("\n")[0][:200])
            return False

    def publish_home(client: WebClient, user_id: str, *, page: int = 1, token: str | None = None) -> None:
        if not user_id:
            return
        try:
            reply, lang = bridge.home(user_id, page=page, token=token)
            client.views_publish(user_id=user_id, view=home_view(reply, lang))
        except Exception:
            log.exception("could not publish the Home tab for %s", user_id)

    # -- slash commands -------------------------------------------------------------------------
    def on_command(ack, body: dict, client: WebClient, context) -> None:
        try:
            user_id = body.get("user_id") or ""
            channel_id = body.get("channel_id") or ""
            inv = bridge.invocation(
                user_id=user_id, channel_id=channel_id,
                command=(body.get("command") or "").lstrip("/"),
                text=unescape(body.get("text") or ""),
                delivery_key=body.get("trigger_id"), user_name=body.get("user_name") or "",
                direct=is_direct(body.get("channel_id"), body.get("channel_name")), token=token_of(context))
            reply = bridge.run(inv)
            # A bare /task, /progress, /resource or /goal: the form, as a modal (the card if not).
            form = form_of(reply)
            if form is not None and open_modal(client, body.get("trigger_id"), form, channel_id):
                ack()
                return
            ack(response_type=response_type(reply), **message_payload(reply, _lang(inv)))
        except Exception:
            log.exception("slash command failed: %s", body.get("command"))
            ack(response_type="ephemeral", text=generic_error())

    # One listener for every command: ours (commands.core.router.ROUTES) and any other pointed at us,
    # which the core answers with usage. Bolt tries each listener's
    # matcher in turn, so one listener is also the cheapest.
    app.command(re.compile(r"^/"))(on_command)

    # Buttons, forms and events: the work (core + the Web API calls) is done before the HTTP
    # answer goes back, so when Slack (or a test) gets the 200, the change is committed and the
    # answer posted. Both are fast; users.info is bounded and the core is quick.

    # -- buttons --------------------------------------------------------------------------------
    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    def on_action(ack, body: dict, action: dict, respond, client: WebClient, context) -> None:
        ack()
        user_id = ((body.get("user") or {}).get("id")) or ""
        token = token_of(context)
        action_id = action.get("action_id") or ""
        value = action.get("value") or ""
        if action_id.startswith(f"{ACTION_PREFIX}{home.TASKS_PAGE_ACTION}:"):
            # The Home tab's own paging: show that page of my tasks.
            page = int(value) if value.isdigit() and len(value) <= 6 else 1
            publish_home(client, user_id, page=page, token=token)
            return
        reply, payload = None, None
        try:
            # Only the command text and the clicking user are taken from the payload; the core
            # re-parses the command and re-checks the permission as that user.
            name, text = split_command(value)
            channel_id = (body.get("channel") or {}).get("id") or ""
            trigger = body.get("trigger_id")
            inv = bridge.invocation(user_id=user_id, channel_id=channel_id, command=name, text=text,
                                    delivery_key=f"action:{trigger}" if trigger else None, token=token)
            reply = bridge.run(inv)
            form = form_of(reply)
            label = ((action.get("text") or {}).get("text")) or "teambot"
            if form is not None and open_modal(client, trigger, form, channel_id):
                pass  # a button running a bare command ("New task"): its form
            elif (not reply.ok and reply.error in forms.NEEDS_TEXT
                  and open_modal(client, trigger, forms.prompt(value, title=label, label=plain_text(reply.summary),
                                                               submit=label), channel_id)):
                pass  # Reject (or Feedback) needs a text: ask for it in a modal
            else:
                payload = message_payload(reply, _lang(inv))
        except Exception:
            log.exception("button failed: %s", action_id)
            reply, payload = None, {"text": generic_error()}
        try:
            if payload is None:
                pass
            elif body.get("response_url"):
                respond(response_type=response_type(reply) if reply else "ephemeral",
                        replace_original=False, **payload)
            elif user_id:
                # A Home-tab button has no response_url: answer in the user's DM with the bot.
                client.chat_postMessage(channel=user_id, **payload)
        except Exception:
            log.exception("could not deliver the answer to a button click by %s", user_id)
        # What I have changed shows on my Home tab at once.
        publish_home(client, user_id, token=token)

    # -- form submissions -----------------------------------------------------------------------
    @app.view(re.compile("^" + re.escape(CALLBACK_PREFIX)))
    def on_submit(ack, body: dict, view: dict, client: WebClient, context) -> None:
        user_id = ((body.get("user") or {}).get("id")) or ""
        token = token_of(context)
        meta = read_metadata(view)
        form_id = meta.get("f") or (view.get("callback_id") or "")[len(CALLBACK_PREFIX):]
        present = input_ids(view)
        values = submitted_values(view)
        channel = forms.channel_of(values) or meta.get("c") or ""
        answer: dict = {}
        reply = inv = None
        try:
            try:
                command = forms.compose(form_id, values, meta.get("s") or "")
            except forms.FieldError as e:
                lang = bridge.lang(user_id, channel, token=token)
                field = e.field if e.field in present else forms.field_for_error(form_id, e.key, present)
                answer = errors(field, t(lang, e.key, **e.args_))
            else:
                name, text = split_command(command)
                # A retry of this very submission (same view, same values) writes once.
                key = f"view:{view.get('id') or ''}:{hashlib.sha256(command.encode()).hexdigest()[:16]}"
                inv = bridge.invocation(user_id=user_id, channel_id=channel, command=name, text=text,
                                        delivery_key=key, token=token)
                reply = bridge.run(inv)
                if not reply.ok:
                    field = forms.field_for_error(form_id, reply.error, present)
                    answer = errors(field, plain_text(reply.summary or reply.plain()))
        except Exception:
            log.exception("form submission failed: %s by %s", form_id, user_id)
            answer = errors(present[0], generic_error()) if present else {}
            reply = None
        ack(**answer)  # no errors: the modal closes
        if answer or reply is None:
            return
        try:
            # Answered where the form was opened (the channel picked only says which team).
            tell(client, user_id, meta.get("c") or "", reply, _lang(inv))
        except Exception:
            log.exception("could not deliver the answer to a form by %s", user_id)
        publish_home(client, user_id, token=token)

    # -- message shortcut: "Create task from message" -----------------------------------------------
    @app.shortcut(TASK_FROM_MESSAGE)
    def on_message_shortcut(ack, body: dict, client: WebClient, respond, context) -> None:
        ack()
        user_id = ((body.get("user") or {}).get("id")) or ""
        channel_id = ((body.get("channel") or {}).get("id")) or ""
        token = token_of(context)
        message = body.get("message") or {}
        try:
            inv = bridge.invocation(user_id=user_id, channel_id=channel_id, command="task", text="",
                                    delivery_key=None, token=token)
            reply = bridge.run(inv)
            form = form_of(reply)
            if form is not None:
                link = permalink(client, channel_id, message.get("ts") or body.get("message_ts"))
                form = forms.prefill(form, task_from_message(unescape(message.get("text") or ""), link,
                                                             bridge.users, token))
                if open_modal(client, body.get("trigger_id"), form, channel_id):
                    return
            payload = message_payload(reply, _lang(inv))
        except Exception:
            log.exception("message shortcut failed for %s", user_id)
            payload = {"text": generic_error()}
        try:
            if body.get("response_url"):
                respond(response_type="ephemeral", replace_original=False, **payload)
            elif user_id:
                client.chat_postMessage(channel=user_id, **payload)
        except Exception:
            log.exception("could not answer the message shortcut of %s", user_id)

    # -- direct messages ------------------------------------------------------------------------
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
                                    direct=True, token=token_of(context))
            reply = bridge.run(inv)
            extra = {"thread_ts": event["thread_ts"]} if event.get("thread_ts") else {}
            say(**message_payload(reply, _lang(inv)), **extra)
        except Exception:
            if event_id:
                seen.release(event_id)
            log.exception("direct message from %s failed", event.get("user"))

    # -- App Home -------------------------------------------------------------------------------
    @app.event("app_home_opened")
    def on_home(event: dict, client: WebClient, context) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish_home(client, event["user"], token=token_of(context))

    # -- last resort ----------------------------------------------------------------------------
    @app.error
    def on_error(error: Exception, body: dict) -> BoltResponse:
        log.error("unhandled error in the Slack app: %s: %s", type(error).__name__, error,
                  exc_info=error)
        if isinstance(body, dict) and body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": generic_error()})
        return BoltResponse(status=200, body="")

    return app


def form_of(reply: Reply | None) -> Form | None:
    return next((p for p in reply.parts if isinstance(p, Form)), None) if reply is not None else None


def tell(client: WebClient, user_id: str, channel: str | None, reply: Reply, lang: str | None) -> None:
    """A form's answer, to the submitter: ephemeral in the channel it was opened from (a public
    reply posted there), else, or when the bot may not post there, in their DM with the bot."""
    payload = message_payload(reply, lang)
    if channel and not is_direct(channel):
        try:
            if reply.private:
                client.chat_postEphemeral(channel=channel, user=user_id, **payload)
            else:
                client.chat_postMessage(channel=channel, **payload)
            return
        except SlackApiError as e:
            log.info("could not answer %s in %s (%s); answering in the DM", user_id, channel,
                     (e.response or {}).get("error") if e.response is not None else e)
    client.chat_postMessage(channel=user_id, **payload)


def permalink(client: WebClient, channel: str, ts: str | None) -> str:
    if not (channel and ts):
        return ""
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or ""
    except Exception as e:  # noqa: BLE001 - the task is still worth creating without the link
        log.info("chat.getPermalink failed: %s", str(e).split("\n")[0][:200])
        return ""


def plain_text(text: str) -> str:
    """Core text for a plain_text field (a modal's error or label): `<@U1|li>` -> @li, no *bold*."""
    return plain(text or "")


_SLACK_TOKEN = re.compile(r"<(?P<kind>[@#!]?)(?P<id>[^<>|]+)(?:\|(?P<label>[^<>]*))?>")
_BARE_AT = re.compile(r"(?<![\w.])[@＠﹫]")


def plain_message(text: str, users: UserDirectory | None = None, token: str | None = None) -> str:
    """A Slack message as plain words a command can carry: `<@U1|li>` -> li, `<#C1|sales>` -> #sales,
    `<https://x|site>` -> site (https://x). Mentions would otherwise be read as the task's owner."""
    looked_up = 0

    def sub(m: re.Match) -> str:
        nonlocal looked_up
        kind, ident, label = m.group("kind"), m.group("id"), m.group("label")
        if kind == "@":
            if label:
                return label
            if users is not None and looked_up < 5:
                looked_up += 1
                name = users.get(ident, token=token).name
                if name:
                    return name
            return ident
        if kind == "#":
            return "#" + (label or ident)
        if kind == "!":
            return label or ident.split("^")[0]
        return f"{label} ({ident})" if label and label != ident else ident

    return _BARE_AT.sub("", _SLACK_TOKEN.sub(sub, text or ""))


def task_from_message(text: str, link: str, users: UserDirectory | None = None,
                      token: str | None = None) -> dict[str, str]:
    """The task form's title and note for a message: its first line, and its text with its link."""
    plain = plain_message(text, users, token).strip()
    first = next((line.strip() for line in plain.splitlines() if line.strip()), "")
    # "..." rather than "…": the core reads text NFKC-normalised, where "…" grows to three dots.
    title = first if len(first) <= TITLE_FROM_MESSAGE else first[: TITLE_FROM_MESSAGE - 3] + "..."
    room = forms.MAX_NOTE - len(link) - 1
    body = plain if len(plain) <= room else plain[: max(0, room - 3)] + "..."
    return {"title": title, "note": "\n".join(x for x in (body, link) if x)}


def home_view(reply: Reply, lang: str | None = None) -> dict:
    """The Home tab: a title, a line saying what the bot is for, then the reply (commands/core/home.py)."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": HOME_TITLE}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": notice("home_subtitle", lang, sep=" · ")}]},
            {"type": "divider"},
            *blocks(reply, lang, max_blocks=97),  # a Home view holds 100 blocks
        ],
    }


__all__ = ["BotIdentity", "SlackBridge", "api_base_url", "build_app", "home_view", "is_direct",
           "plain_message", "task_from_message", "tell"]

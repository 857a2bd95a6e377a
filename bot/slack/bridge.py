"""Between Bolt's listeners (bot/slack/listeners/) and the core: Slack payloads -> Invocations ->
Dispatcher.handle(), and the one way an answer goes back: a form opens as a modal; otherwise the
reply goes where Slack said to answer (the slash command's ack, a response_url); where there is no
such place (a Home-tab button, a form submitted), in the channel the form came from, else the
person's DM with the bot. Nothing here raises into Bolt: a failure below the core is logged and
answered with the generic notice.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.kit.notices import generic_error
from bot.slack.modals import modal_view
from bot.slack.render import home_view, message_payload
from bot.slack.users import Profile, UserDirectory
from commands.core.clock import Clock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Form, Reply
from commands.i18n import normalize_lang

log = logging.getLogger("teambot.slack")

PLATFORM = "slack"


def is_direct(channel_id: str | None, channel_name: str | None = None) -> bool:
    return channel_name == "directmessage" or bool(channel_id and channel_id.startswith("D"))


def response_type(reply: Reply | None) -> str:
    return "in_channel" if reply is not None and not reply.private else "ephemeral"


def form_of(reply: Reply | None) -> Form | None:
    return next((p for p in reply.parts if isinstance(p, Form)), None) if reply is not None else None


def lang_of(inv: Invocation | None) -> str | None:
    """The language Slack says the person reads (for what the renderer adds, e.g. "N more")."""
    return normalize_lang(inv.actor.locale) if inv is not None else None


def token_of(context) -> str | None:
    """The workspace's bot token from Bolt's context (several workspaces: each has its own)."""
    try:
        return context.get("bot_token") if context is not None else None
    except Exception:  # noqa: BLE001 - a token is only a hint for users.info
        return None


def first_line(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"


class SlackBridge:
    """Builds Invocations from Slack payloads, runs them through the Dispatcher and answers, guarded."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock, users: UserDirectory, *, default_lang: str = "zh"):
        self.dispatcher = dispatcher
        self.clock = clock
        self.users = users
        self.default_lang = default_lang

    # -- in ---------------------------------------------------------------------------------------
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

    def lang(self, user_id: str, channel: str = "", *, token: str | None = None) -> str:
        """The language the core answers this person in (their choice, the team's, Slack's)."""
        try:
            return self.dispatcher.language(self._person(user_id, channel, token))
        except Exception:  # a language is never worth failing for
            log.exception("could not tell the language of %s", user_id)
            return self.default_lang

    # -- out --------------------------------------------------------------------------------------
    def open_modal(self, client: WebClient, trigger_id: str | None, form: Form | None, channel: str | None) -> bool:
        """views.open; False when there is no form or it could not open (the caller then answers with
        the reply's usage card)."""
        if form is None or not trigger_id:
            return False
        try:
            client.views_open(trigger_id=trigger_id, view=modal_view(form, channel))
            return True
        except Exception as e:  # noqa: BLE001 - an expired trigger, a Slack hiccup: the card instead
            log.warning("views.open failed (%s); answering with the usage card", first_line(e))
            return False

    def answer(self, client: WebClient, body: dict, respond, *, user_id: str, reply: Reply | None,
               inv: Invocation | None = None, modal: Callable[[Reply], Form | None] = form_of) -> None:
        """The answer to an interaction that has no ack body for it (a button, a shortcut): a modal when
        `modal(reply)` gives a form that opens; else the reply on the interaction's response_url; else in
        the person's DM. `reply` None: something failed, the generic notice."""
        channel = (body.get("channel") or {}).get("id") or ""
        try:
            if reply is not None and self.open_modal(client, body.get("trigger_id"), modal(reply), channel):
                return
            payload = message_payload(reply, lang_of(inv)) if reply is not None else {"text": generic_error()}
            if body.get("response_url"):
                respond(response_type=response_type(reply), replace_original=False, **payload)
            elif user_id:
                client.chat_postMessage(channel=user_id, **payload)
        except Exception:
            log.exception("could not answer %s", user_id)

    def tell(self, client: WebClient, user_id: str, channel: str | None, reply: Reply, lang: str | None) -> None:
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

    def publish_home(self, client: WebClient, user_id: str, *, page: int = 1, token: str | None = None) -> None:
        """The person's Home tab, in their language: what they have changed shows there at once."""
        if not user_id:
            return
        try:
            reply, lang = self.dispatcher.home(self._person(user_id, "", token), page=page)
            client.views_publish(user_id=user_id, view=home_view(reply, lang))
        except Exception:
            log.exception("could not publish the Home tab for %s", user_id)

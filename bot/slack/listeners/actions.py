"""Buttons (`tb:` action ids). A button's value is a command text, run as the *clicking* user: only
the command text and the clicker are taken from the payload, and the core re-parses the command and
re-checks the permission. A bare command opens its form; a step that needs a text (Reject, Feedback)
asks for it in a modal; the Home tab's paging buttons re-publish the tab. After every click the
clicker's Home tab is re-published, so what they changed shows there at once."""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from bot.kit.markup import plain
from bot.slack.bridge import SlackBridge, form_of, token_of
from bot.slack.render import ACTION_PREFIX
from commands.core import forms, home
from commands.core.reply import Form, Reply
from commands.core.router import split_command

log = logging.getLogger("teambot.slack")
PAGE_ACTION = f"{ACTION_PREFIX}{home.TASKS_PAGE_ACTION}:"


def prompt_for_text(value: str, label: str):
    """A modal asking for the text a refused step needs (a rejection's reason), else the reply's form."""
    def modal(reply: Reply) -> Form | None:
        if not reply.ok and forms.needs_text(reply.error):
            return forms.prompt(value, title=label, label=plain(reply.summary), submit=label)
        return form_of(reply)
    return modal


def register(app: App, bridge: SlackBridge) -> None:
    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    def on_action(ack, body: dict, action: dict, respond, client: WebClient, context) -> None:
        ack()
        user_id = ((body.get("user") or {}).get("id")) or ""
        token = token_of(context)
        value = action.get("value") or ""
        if (action.get("action_id") or "").startswith(PAGE_ACTION):
            page = int(value) if value.isdigit() and len(value) <= 6 else 1
            bridge.publish_home(client, user_id, page=page, token=token)
            return
        reply = inv = None
        try:
            name, text = split_command(value)
            trigger = body.get("trigger_id")
            inv = bridge.invocation(user_id=user_id, channel_id=(body.get("channel") or {}).get("id") or "",
                                    command=name, text=text, token=token,
                                    delivery_key=f"action:{trigger}" if trigger else None)
            reply = bridge.run(inv)
        except Exception:
            log.exception("button failed: %s", action.get("action_id"))
        label = ((action.get("text") or {}).get("text")) or "teambot"
        bridge.answer(client, body, respond, user_id=user_id, reply=reply, inv=inv,
                      modal=prompt_for_text(value, label))
        bridge.publish_home(client, user_id, token=token)

    # Any other action (a link button, a select we did not make) is acknowledged and left alone.
    @app.action(re.compile(".*"))
    def on_other_action(ack) -> None:
        ack()

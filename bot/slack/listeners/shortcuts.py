"""The message shortcut "Create task from message": the task form, prefilled with the message's first
line as the title and its text and permalink as the note."""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.bridge import SlackBridge, first_line, form_of, token_of
from bot.slack.render import unescape
from bot.slack.users import UserDirectory
from commands import tasks
from commands.core import forms
from commands.core.reply import Form, Reply

log = logging.getLogger("teambot.slack")

#: callback_id of the message shortcut (the manifest declares it).
TASK_FROM_MESSAGE = "create_task_from_message"
#: A task made from a message takes the message's first line, cut to this, as its title.
TITLE_FROM_MESSAGE = 100
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
    room = tasks.MAX_NOTE - len(link) - 1
    body = plain if len(plain) <= room else plain[: max(0, room - 3)] + "..."
    return {"title": title, "note": "\n".join(x for x in (body, link) if x)}


def permalink(client: WebClient, channel: str, ts: str | None) -> str:
    if not (channel and ts):
        return ""
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or ""
    except Exception as e:  # noqa: BLE001 - the task is still worth creating without the link
        log.info("chat.getPermalink failed: %s", first_line(e))
        return ""


def register(app: App, bridge: SlackBridge) -> None:
    @app.shortcut(TASK_FROM_MESSAGE)
    def on_message_shortcut(ack, body: dict, client: WebClient, respond, context) -> None:
        ack()
        user_id = ((body.get("user") or {}).get("id")) or ""
        channel_id = ((body.get("channel") or {}).get("id")) or ""
        token = token_of(context)
        message = body.get("message") or {}

        def prefilled(reply: Reply) -> Form | None:
            form = form_of(reply)
            if form is None:
                return None
            link = permalink(client, channel_id, message.get("ts") or body.get("message_ts"))
            return forms.prefill(form, task_from_message(unescape(message.get("text") or ""), link,
                                                         bridge.users, token))

        reply = inv = None
        try:
            inv = bridge.invocation(user_id=user_id, channel_id=channel_id, command="task", text="",
                                    delivery_key=None, token=token)
            reply = bridge.run(inv)
        except Exception:
            log.exception("message shortcut failed for %s", user_id)
        bridge.answer(client, body, respond, user_id=user_id, reply=reply, inv=inv, modal=prefilled)

"""Reply -> DingTalk message JSON. Pure functions: no I/O, no SDK.

The same JSON works as an outgoing-robot HTTP answer, a sessionWebhook post and a custom-robot
webhook post (https://open.dingtalk.com/document/orgapp/robot-message-types-and-data-format):

* no buttons: `{"msgtype": "markdown", "markdown": {"title", "text"}}`
* buttons:    `{"msgtype": "actionCard", "actionCard": {"title", "text", "btnOrientation", "btns": [...]}}`
  where each button's actionURL is `dtmd://dingtalkclient/sendMessage?content=<typed command>`: a tap
  makes the DingTalk client send the command text into the conversation, so a button is exactly the
  typed command (and runs through the same parser, permission checks and dedupe as typing it).

DingTalk markdown has no tables and no code blocks; a Table becomes one line per row with cells
separated by " | " and a bold header. Neutral mentions `<@id>` / `<@id|name>` become `@id`, which
DingTalk shows as a mention when the id is also in `at.atUserIds` (added for group messages).
`*bold*` (the core's markup) becomes `**bold**`. Images are local chart files, which a robot cannot
upload; they are named in the text instead.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

from commands.core.reply import Actions, Button, Fields, Image, Reply, Table, Text

SEND_MESSAGE_URL = "dtmd://dingtalkclient/sendMessage?content="
#: DingTalk caps a robot message around 20 000 bytes; stay far below it.
MAX_TEXT = 4000
MAX_TITLE = 64
#: An ActionCard shows at most a handful of buttons comfortably; the rest are listed as commands.
MAX_BUTTONS = 5

_MENTION = re.compile(r"<@(?P<uid>[^<>|\s]+)(?:\|(?P<label>[^<>]*))?>")
_BOLD = re.compile(r"(?<![*A-Za-z0-9])\*(?=\S)(?P<body>[^*\n]+?)(?<=\S)\*(?![*A-Za-z0-9])")
_MARKUP = re.compile(r"[*`]")


def inline(text: str) -> str:
    """Core markup -> DingTalk markdown: mentions to `@id`, `*bold*` to `**bold**`."""
    text = _MENTION.sub(lambda m: "@" + m.group("uid"), text)
    return _BOLD.sub(lambda m: "**" + m.group("body") + "**", text)


def mentioned_ids(reply: Reply) -> list[str]:
    """User ids mentioned anywhere in the reply, in order, once each."""
    seen: list[str] = []
    for chunk in _texts(reply):
        for m in _MENTION.finditer(chunk):
            if m.group("uid") not in seen:
                seen.append(m.group("uid"))
    return seen


def _texts(reply: Reply):
    for p in reply.parts:
        if isinstance(p, Text):
            yield p.text
        elif isinstance(p, Fields):
            for k, v in p.pairs:
                yield k
                yield v
        elif isinstance(p, Table):
            yield from p.header
            for row in p.rows:
                yield from row


def _lines(text: str) -> str:
    # A single newline is not a line break in DingTalk markdown; a trailing double space is.
    return "  \n".join(inline(text).split("\n"))


def _table(t: Table) -> str:
    lines = ["**" + " | ".join(inline(h) for h in t.header) + "**"]
    lines += [" | ".join(inline(c) for c in row) for row in t.rows]
    return "  \n".join(lines)


def button_url(command: str) -> str:
    """The actionURL that makes the client send `command` as a message."""
    return SEND_MESSAGE_URL + quote(command, safe="")


def command_from_url(url: str) -> str | None:
    """Inverse of button_url (for tests and logs): the command a button sends, or None."""
    if not url.startswith("dtmd://dingtalkclient/sendMessage"):
        return None
    values = parse_qs(urlsplit(url).query).get("content")
    return values[0] if values else None


def markdown_text(reply: Reply, *, include_commands: bool = False) -> str:
    blocks: list[str] = []
    for p in reply.parts:
        if isinstance(p, Text):
            blocks.append(_lines(p.text))
        elif isinstance(p, Fields):
            blocks.append("  \n".join(f"**{inline(k)}**：{inline(v)}" for k, v in p.pairs))
        elif isinstance(p, Table):
            blocks.append(_table(p))
        elif isinstance(p, Image):
            blocks.append(f"🖼 {inline(p.alt)}")
        elif isinstance(p, Actions) and include_commands:
            cmds = [f"{inline(b.label)}：`{b.command}`" for b in p.buttons if b.command]
            if cmds:
                blocks.append("  \n".join(cmds))
    return _cut("\n\n".join(b for b in blocks if b), MAX_TEXT)


def title(reply: Reply) -> str:
    first = reply.summary or next((p.text for p in reply.parts if isinstance(p, Text)), "") or "teambot"
    first = _MARKUP.sub("", _MENTION.sub(lambda m: "@" + (m.group("label") or m.group("uid")),
                                         first.split("\n", 1)[0])).strip() or "teambot"
    return _cut(first, MAX_TITLE)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _buttons(reply: Reply) -> list[Button]:
    return [b for p in reply.parts if isinstance(p, Actions) for b in p.buttons if b.command]


def render(reply: Reply, *, at_user: str | None = None, group: bool = False) -> dict:
    """The message for `reply`. In a group (`group=True`) every mentioned id goes into
    at.atUserIds, and `at_user` (the person being answered) is mentioned first."""
    buttons = _buttons(reply)
    overflow = len(buttons) > MAX_BUTTONS
    text = markdown_text(reply, include_commands=overflow)
    at_ids: list[str] = []
    if group:
        at_ids = mentioned_ids(reply)
        if at_user:
            if at_user not in at_ids:
                text = f"@{at_user} " + text
            at_ids = [at_user] + [u for u in at_ids if u != at_user]
    if buttons:
        shown = buttons[:MAX_BUTTONS]
        msg: dict = {"msgtype": "actionCard", "actionCard": {
            "title": title(reply), "text": text,
            "btnOrientation": "1" if len(shown) <= 2 else "0",
            "btns": [{"title": _cut(b.label, 20), "actionURL": button_url(b.command)} for b in shown],
        }}
    else:
        msg = {"msgtype": "markdown", "markdown": {"title": title(reply), "text": text}}
    if at_ids:
        msg["at"] = {"atUserIds": at_ids, "isAtAll": False}
    return msg


def message_text(message: dict) -> str:
    """Everything a person reads in a rendered message (tests, logs): text plus button commands."""
    kind = message.get("msgtype")
    if kind == "markdown":
        return message["markdown"].get("text", "")
    if kind == "actionCard":
        card = message["actionCard"]
        out = [card.get("text", "")]
        for b in card.get("btns") or []:
            out.append(f"[{b.get('title')}] ({command_from_url(b.get('actionURL', '')) or ''})")
        if card.get("singleTitle"):
            out.append(f"[{card['singleTitle']}] ({command_from_url(card.get('singleURL', '')) or ''})")
        return "\n".join(out)
    if kind == "text":
        return message["text"].get("content", "")
    return ""

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

from urllib.parse import parse_qs, quote, urlsplit

from bot.kit import markup
from bot.kit.markup import (
    MENTION,
    bare,
    cut,
    defuse_blocks,
    defuse_links,
    defuse_tags,
    double_star_bold,
    mentioned_ids,
)
from commands.core.reply import Actions, Button, Reply

SEND_MESSAGE_URL = "dtmd://dingtalkclient/sendMessage?content="
#: DingTalk caps a robot message around 20 000 bytes; stay far below it.
MAX_TEXT = 4000
MAX_TITLE = 64
#: An ActionCard shows at most a handful of buttons comfortably; the rest are listed as commands.
MAX_BUTTONS = 5


def inline(text: str) -> str:
    """Core markup -> DingTalk markdown: mentions to `@id`, `*bold*` to `**bold**`, links in what a
    person typed left as words. Only `at.atUserIds` makes a mention notify anyone (`render`), and
    only for people's ids; `isAtAll` is never set."""
    return double_star_bold(defuse_links(MENTION.sub(lambda m: "@" + m.group("uid"), defuse_blocks(defuse_tags(text)))))


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
    # A single newline is not a line break in DingTalk markdown; a trailing double space is.
    return cut(markup.markdown(reply, inline, br="  \n", include_commands=include_commands), MAX_TEXT)


def title(reply: Reply) -> str:
    return markup.title(reply, MAX_TITLE)


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
            "btns": [{"title": cut(bare(b.label), 20), "actionURL": button_url(b.command)} for b in shown],
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

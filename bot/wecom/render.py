"""Reply -> WeCom message JSON. Pure functions: no I/O.

* App messages (`/cgi-bin/message/send`, `/cgi-bin/appchat/send`):
  - no buttons: `{"msgtype": "markdown", "markdown": {"content": ...}}` (content at most 2048 bytes)
  - buttons: a template card of type `button_interaction`; each button's `key` is `tb:` + the typed
    command, so a click (a `template_card_event` callback carrying the key) runs exactly the command
    a person could type. `task_id` must be unique per card: the caller passes one.
* Group robot webhooks (`/cgi-bin/webhook/send`): markdown only (4096 bytes); their template cards
  have no interactive buttons, so buttons are listed as commands to type.

WeCom markdown has no tables: a Table becomes a bold header line and one line per row, cells
separated by " | ". Mentions `<@id>` stay `<@id>` in robot posts (WeCom's mention syntax there) and
become `@name`/`@id` in app messages, which have no mentions. `*bold*` becomes `**bold**`.
"""
from __future__ import annotations

from functools import partial

from bot.kit import markup
from bot.kit.markup import (
    MENTION,
    bare,
    cut,
    cut_bytes,
    defuse_blocks,
    defuse_links,
    defuse_tags,
    double_star_bold,
    live_id,
    name_of,
)
from commands.core.reply import Actions, Button, Fields, Image, Reply, Table, Text

APP_MARKDOWN_BYTES = 2048
WEBHOOK_MARKDOWN_BYTES = 4096
BUTTON_KEY_PREFIX = "tb:"
MAX_BUTTON_KEY_BYTES = 1024
MAX_CARD_BUTTONS = 6

_STYLE = {"primary": 1, "danger": 3}


def inline(text: str, *, robot: bool = False) -> str:
    """Core markup -> WeCom markdown. In robot posts a person's mention stays `<@userid>` (WeCom's
    mention there), never one of `all`; elsewhere mentions are `@name`. Links in what a person typed
    stay words."""
    def mention(m) -> str:
        return f"<@{m.group('uid')}>" if robot and live_id(m.group("uid")) else "@" + name_of(m)
    return double_star_bold(defuse_links(MENTION.sub(mention, defuse_blocks(defuse_tags(text)))))


def markdown_content(reply: Reply, *, robot: bool = False, include_commands: bool = True) -> str:
    return markup.markdown(reply, partial(inline, robot=robot), listed="> ", include_commands=include_commands)


def title(reply: Reply) -> str:
    return markup.title(reply, CARD_TITLE_CHARS)


def _buttons(reply: Reply) -> list[Button]:
    return [b for p in reply.parts if isinstance(p, Actions) for b in p.buttons
            if b.command and len((BUTTON_KEY_PREFIX + b.command).encode()) <= MAX_BUTTON_KEY_BYTES]


def button_key(command: str) -> str:
    return BUTTON_KEY_PREFIX + command


def command_from_key(key: str | None) -> str | None:
    if not key or not key.startswith(BUTTON_KEY_PREFIX):
        return None
    return key[len(BUTTON_KEY_PREFIX):] or None


def render_markdown(reply: Reply, *, robot: bool = False) -> dict:
    limit = WEBHOOK_MARKDOWN_BYTES if robot else APP_MARKDOWN_BYTES
    content = cut_bytes(markdown_content(reply, robot=robot), limit) or "…"
    return {"msgtype": "markdown", "markdown": {"content": content}}


#: What a card shows without cutting (WeCom's recommended lengths): longer replies go as markdown.
CARD_TITLE_CHARS = 36
CARD_BODY_CHARS = 160


def _card_parts(reply: Reply) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(title line, body lines, label/value pairs) as a card would show them."""
    body_lines: list[str] = []
    pairs: list[tuple[str, str]] = []
    first_text = True
    for p in reply.parts:
        if isinstance(p, Text):
            text = bare(p.text)
            if first_text:  # shown as the title
                first_text = False
                rest = text.split("\n", 1)
                text = rest[1] if len(rest) > 1 else ""
            if text.strip():
                body_lines.append(text.strip())
        elif isinstance(p, Fields):
            pairs.extend((bare(k), bare(v)) for k, v in p.pairs)
        elif isinstance(p, Table):
            body_lines.append(" | ".join(bare(h) for h in p.header))
            body_lines.extend(" | ".join(bare(c) for c in row) for row in p.rows)
        elif isinstance(p, Image):
            body_lines.append(f"🖼 {bare(p.alt)}")
    first = next((bare(p.text).split("\n", 1)[0] for p in reply.parts if isinstance(p, Text)), "")
    return first.strip() or title(reply), body_lines, pairs


def fits_card(reply: Reply) -> bool:
    """True when a card shows the whole reply: title, body and fields within WeCom's lengths."""
    head, body, pairs = _card_parts(reply)
    return (len(head) <= CARD_TITLE_CHARS and len("\n".join(body)) <= CARD_BODY_CHARS and len(pairs) <= 6
            and all(len(k) <= 10 and len(v) <= 30 for k, v in pairs)
            and len(_buttons(reply)) <= MAX_CARD_BUTTONS)


def render_card(reply: Reply, task_id: str) -> dict:
    """A button_interaction template card (app messages only)."""
    buttons = _buttons(reply)[:MAX_CARD_BUTTONS]
    head, body_lines, pairs = _card_parts(reply)
    card: dict = {
        "card_type": "button_interaction",
        "main_title": {"title": cut(head, CARD_TITLE_CHARS)},
        "task_id": task_id,
        "button_list": [{"text": cut(b.label, 10), "style": _STYLE.get(b.style or "", 2),
                         "key": button_key(b.command)} for b in buttons],
    }
    if body_lines:
        card["sub_title_text"] = cut("\n".join(body_lines), CARD_BODY_CHARS)
    if pairs:
        card["horizontal_content_list"] = [{"keyname": cut(k, 10), "value": cut(v, 30)} for k, v in pairs[:6]]
    return {"msgtype": "template_card", "template_card": card}


def render_app(reply: Reply, *, task_id: str) -> dict:
    """An app message: a button card when the reply has buttons and fits one, else markdown (with
    the buttons' commands listed, so nothing is lost)."""
    if _buttons(reply) and fits_card(reply):
        return render_card(reply, task_id)
    return render_markdown(reply)


def render_robot(reply: Reply) -> dict:
    """A group robot webhook post: markdown, buttons listed as commands, mentions kept."""
    return render_markdown(reply, robot=True)


def message_text(message: dict) -> str:
    """Everything a person reads in a rendered message (tests, logs), button commands included."""
    kind = message.get("msgtype")
    if kind == "markdown":
        return message["markdown"].get("content", "")
    if kind == "text":
        return message["text"].get("content", "")
    if kind == "template_card":
        card = message["template_card"]
        out = [card.get("main_title", {}).get("title", ""), card.get("sub_title_text", "")]
        out += [f"{h.get('keyname')}: {h.get('value')}" for h in card.get("horizontal_content_list") or []]
        out += [f"[{b.get('text')}] ({command_from_key(b.get('key')) or ''})" for b in card.get("button_list") or []]
        return "\n".join(x for x in out if x)
    return ""

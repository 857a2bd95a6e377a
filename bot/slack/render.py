"""Reply -> Slack Block Kit (messages and the Home tab). Pure functions: no I/O, no Slack SDK.

Limits honoured (https://api.slack.com/reference/block-kit/blocks):
  * at most 50 blocks per message (100 in a Home tab view or a modal); what does not fit is
    replaced by an "N more not shown" line, keeping the reply's closing buttons (a More button),
  * a section's text at most 3000 characters, at most 10 fields of at most 2000 characters each,
  * an actions block at most 25 elements; a button label at most 75 characters, its value 2000,
    its action_id 255,
  * an image's alt_text at most 2000 characters.

The one escaping rule for text (core text and the user text inside it alike): a person's mention
(`<@U123>`, `<@U123|li>`) and a channel link (`<#C1|sales>`) stay live, since that is how the bot
names an assignee or an approver. Everything else in angle brackets is shown, never obeyed: a
broadcast or a user-group ping (`<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^S1|@sales>`)
becomes its plain words with a word joiner after the `@`, a link shows its real address next to its
label (`<http://evil|click>` -> `click (http://evil)`), and every other `&`, `<`, `>` is escaped.
`*bold*` is already mrkdwn and passes through.
"""
from __future__ import annotations

import re

from bot.kit.markup import plain
from bot.kit.notices import notice
from commands.core.reply import Actions, Button, Fields, File, Image, Reply, Table, Text

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTONS = 25
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ALT = 2000
#: Fallback `text` of a message (notifications, screen readers); Slack truncates at 40k anyway.
MAX_FALLBACK = 3000

#: Prefix of every action_id we emit; the app's action listener matches `^tb:`.
ACTION_PREFIX = "tb:"

#: What stays live: a person's mention and a channel link.
_KEEP = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+)(?:\|[^<>]*)?>")
#: Any other `<...>` Slack would read as markup.
_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
#: After the `@` of a broadcast shown as words: U+2060 WORD JOINER, so Slack never reads it as one.
_JOINER = "\u2060"
_MORE = {
    "zh": "…还有 {n} 项未显示",
    "en": "… {n} more not shown",
}


def escape(text: str) -> str:
    """Text as mrkdwn by the rule above: mentions of people and channel links live, nothing else."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(_escape_plain(text[pos:m.start()]))
        out.append(m.group(0) if _KEEP.fullmatch(m.group(0)) else _escape_plain(_shown(m.group(1))))
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def plain_label(text: str) -> str:
    """The rule for a plain_text field (a button's label): the same words, with no markup at all."""
    return plain(_TOKEN.sub(lambda m: m.group(0) if _KEEP.fullmatch(m.group(0)) else _shown(m.group(1)), text))


def _shown(inner: str) -> str:
    """What a `<...>` that is not obeyed shows: a broadcast's words, a link's label and address."""
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return (label or target) if name == "date" else "@" + _JOINER + (label or name).lstrip("@")
    if target.startswith("@"):
        return "@" + _JOINER + (label or target[1:])
    if "://" in target or target.startswith("mailto:"):
        return f"{label} ({target})" if label and label != target else target
    return "<" + inner + ">"


def unescape(text: str) -> str:
    """Undo Slack's escaping of user-typed text (`&lt;` -> `<`), for text coming *from* Slack."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _escape_plain(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_cut(text: str, limit: int) -> int:
    """An index <= limit where `text` may be cut without splitting an entity, a mention token
    or a surrogate-free code point; prefers a line break, then a space."""
    if len(text) <= limit:
        return len(text)
    cut = limit
    # Never cut inside `&amp;` or `<@U123|name>`.
    for pattern in (_ENTITY, _KEEP):
        for m in pattern.finditer(text, max(0, limit - 200), min(len(text), limit + 200)):
            if m.start() < cut < m.end():
                cut = m.start()
    nl = text.rfind("\n", 0, cut + 1)
    if nl >= cut // 2 and nl > 0:
        return nl + 1
    sp = text.rfind(" ", 0, cut + 1)
    if sp >= cut // 2 and sp > 0:
        return sp + 1
    return cut if cut > 0 else limit


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split already-escaped mrkdwn into chunks of at most `limit` characters, none empty."""
    chunks: list[str] = []
    rest = text
    while rest:
        cut = _safe_cut(rest, limit)
        chunk, rest = rest[:cut], rest[cut:]
        if chunk.strip():
            chunks.append(chunk.rstrip("\n") or chunk)
    return chunks


def _clip(s: str, limit: int) -> str:
    """At most `limit` characters, ending in … when cut; never inside an entity or mention."""
    if len(s) <= limit:
        return s
    cut = limit - 1
    for pattern in (_ENTITY, _KEEP):
        for m in pattern.finditer(s, max(0, cut - 200), min(len(s), cut + 200)):
            if m.start() < cut < m.end():
                cut = m.start()
    return s[:cut] + "…"


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _text_blocks(part: Text) -> list[dict]:
    return [_section(chunk) for chunk in split_text(escape(part.text))]


def _fields_blocks(part: Fields) -> list[dict]:
    fields = []
    for label, value in part.pairs:
        label_s, value_s = escape(str(label)), escape(str(value))
        text = f"*{label_s}*\n{value_s}" if label_s.strip() else value_s
        fields.append({"type": "mrkdwn", "text": _clip(text or " ", MAX_FIELD_TEXT)})
    return [{"type": "section", "fields": fields[i:i + MAX_FIELDS]}
            for i in range(0, len(fields), MAX_FIELDS)]


def _table_blocks(part: Table) -> list[dict]:
    if not part.header:
        return []
    n = len(part.header)
    # Ragged rows (shorter or longer than the header) are padded or cut rather than crash.
    rows = tuple(tuple(str(c) for c in r[:n]) + ("",) * (n - len(r)) for r in part.rows)
    table = Table(tuple(str(h) for h in part.header), rows)
    layout = Reply(parts=(table,)).plain()  # the core's aligned plain-text layout
    lines = [escape(line) for line in layout.split("\n")]
    fence = 8  # "```\n" + "\n```"
    room = MAX_TEXT - fence
    # Every line fits a third of a block, so the repeated header plus one row always fit.
    lines = [_clip(line, (room - 3) // 3) for line in lines]
    head, body = lines[:2], lines[2:]
    blocks: list[dict] = []
    chunk: list[str] = list(head)
    size = sum(len(line) + 1 for line in chunk)
    for line in body:
        if size + len(line) + 1 > room and len(chunk) > len(head):
            blocks.append(_section("```\n" + "\n".join(chunk) + "\n```"))
            chunk, size = list(head), sum(len(h) + 1 for h in head)  # repeat the header
        chunk.append(line)
        size += len(line) + 1
    blocks.append(_section("```\n" + "\n".join(chunk) + "\n```"))
    return blocks


def button_element(button: Button, index: int) -> dict:
    el: dict = {
        "type": "button",
        "action_id": _clip(f"{ACTION_PREFIX}{button.action_id}:{index}", MAX_ACTION_ID),
        "text": {"type": "plain_text", "text": _clip(plain_label(button.label) or "…", MAX_BUTTON_LABEL),
                 "emoji": True},
        # The command the click runs; the server re-parses and re-checks it as the clicking user.
        "value": (button.command or button.value or "")[:MAX_BUTTON_VALUE],
    }
    if button.style in ("primary", "danger"):
        el["style"] = button.style
    return el


def _actions_blocks(part: Actions, start: int) -> list[dict]:
    elements = [button_element(b, start + i) for i, b in enumerate(part.buttons)]
    return [{"type": "actions", "elements": elements[i:i + MAX_BUTTONS]}
            for i in range(0, len(elements), MAX_BUTTONS)]


def _image_blocks(part: Image) -> list[dict]:
    alt = part.alt or "image"
    if re.match(r"(?i)^https?://", part.path or ""):
        return [{"type": "image", "image_url": part.path, "alt_text": _clip(alt, MAX_ALT)}]
    # A local file (a chart not yet uploaded): say what it is rather than a broken image.
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": _clip("🖼 " + escape(alt), MAX_TEXT)}]}]


def _more_text(n: int, lang: str | None) -> str:
    if lang in _MORE:
        return _MORE[lang].format(n=n)
    return _MORE["zh"].format(n=n) + " / " + _MORE["en"].format(n=n).lstrip("… ")


def blocks(reply: Reply, lang: str | None = None, *, max_blocks: int = MAX_BLOCKS) -> list[dict]:
    """The reply as Block Kit blocks, within Slack's limits. `lang` only picks the language of
    the "N more not shown" note (both languages when None)."""
    out: list[dict] = []
    buttons_seen = 0
    for part in reply.parts:
        if isinstance(part, Text):
            out.extend(_text_blocks(part))
        elif isinstance(part, Fields):
            out.extend(_fields_blocks(part))
        elif isinstance(part, Table):
            out.extend(_table_blocks(part))
        elif isinstance(part, Actions):
            out.extend(_actions_blocks(part, buttons_seen))
            buttons_seen += len(part.buttons)
        elif isinstance(part, Image):
            out.extend(_image_blocks(part))
        elif isinstance(part, File):
            # The file itself is uploaded by the sender (bot/slack/sender.py); the message names it.
            out.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                         "text": _clip("📎 " + escape(part.title), MAX_TEXT)}]})
    if len(out) > max_blocks:
        # The reply's closing buttons (a More button, the next step) survive the cut.
        tail = out[-1:] if reply.parts and isinstance(reply.parts[-1], Actions) and out[-1]["type"] == "actions" \
            else []
        keep = max_blocks - 1 - len(tail)
        left_out = len(out) - len(tail) - keep
        out = out[:keep] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": _more_text(left_out, lang)}]}] \
            + tail
    return out


def fallback_text(reply: Reply) -> str:
    """The message's `text`: the summary, else the plain rendering; escaped and clipped."""
    text = reply.summary or reply.plain() or " "
    return _clip(escape(text), MAX_FALLBACK)


def message_payload(reply: Reply, lang: str | None = None) -> dict:
    """`text` + `blocks`, ready for ack(), respond(), say() or chat.postMessage."""
    payload: dict = {"text": fallback_text(reply)}
    rendered = blocks(reply, lang)
    if rendered:
        payload["blocks"] = rendered
    return payload


HOME_TITLE = "teambot"


def home_view(reply: Reply, lang: str | None = None) -> dict:
    """The Home tab: a title, a line saying what the bot is for, then the reply (commands/home.py)."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": HOME_TITLE}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": notice("home_subtitle", lang, sep=" · ")}]},
            {"type": "divider"},
            *blocks(reply, lang, max_blocks=97),  # a Home view holds 100 blocks
        ],
    }

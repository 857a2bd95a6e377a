"""Reading the core's markup: what every renderer needs to know about a neutral Text.

The core (commands/) writes two kinds of markup into its text: mentions, `<@id>` or `<@id|label>`
(commands.core.people.mention, or a mention the user typed and the parser kept), and `*bold*`. Every
renderer turns them into its platform's form with the patterns and helpers below, so that a mention
or a bold run means the same thing on Slack, DingTalk, WeCom and the console.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from commands.core.reply import Actions, Fields, Image, Reply, Table, Text

#: A neutral mention: `<@id>` or `<@id|label>`.
MENTION = re.compile(r"<@(?P<uid>[^<>|\s]+)(?:\|(?P<label>[^<>]*))?>")
#: `*bold*`: not inside a word or a `**` run, no space just inside the stars.
BOLD = re.compile(r"(?<![*A-Za-z0-9])\*(?=\S)(?P<body>[^*\n]+?)(?<=\S)\*(?![*A-Za-z0-9])")
#: The characters of inline markup, for places that show none (titles, card fields).
_MARKUP_CHARS = re.compile(r"[*`]")
#: An id the platforms could take for a broadcast ("all" on WeCom, "所有人" on DingTalk): such a
#: mention is never the bot's own, so it is never made live.
BROADCAST_IDS = frozenset({"all", "@all", "everyone", "channel", "here", "所有人"})
ELLIPSIS = "…"
#: A markdown link, `[label](address)`: the label may hide where it leads.
_MD_LINK = re.compile(r"\]\s*\(")
#: A `<` that opens markup DingTalk or WeCom may obey: a mention (`<@all>`), a Slack-style `<!...>`, a
#: link, or an HTML tag (their markdown renders `<font>` and friends).
_TAG = re.compile(r"<(?=[@!]|(?:https?|mailto|ftp|dtmd|weixin|javascript):|/?(?:font|a|img|br|b|i|u|s|del|ins|span|div|"
                  r"p|h[1-6]|strong|em|code|pre|table|tr|td|th|ul|ol|li|blockquote|hr|sup|sub|details|summary|mark|"
                  r"small|big|center|style|script|iframe|svg|video|audio|link|meta|form|input|button|object|embed)"
                  r"(?![A-Za-z0-9]))", re.I)
#: A line that markdown would read as a heading or a quote.
_BLOCK = re.compile(r"(?m)^([ \t]*)(#{1,6}(?=[ \t]|$)|>)")
#: Control characters a terminal would obey (colours, cursor moves, a cleared screen), tab and newline aside.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def name_of(m: re.Match) -> str:
    """A MENTION match's label, else its id."""
    return m.group("label") or m.group("uid")


def names(text: str) -> str:
    """Mentions as `@label`: for places where a mention cannot be live."""
    return MENTION.sub(lambda m: "@" + name_of(m), text or "")


def double_star_bold(text: str) -> str:
    """`*bold*` as markdown's `**bold**`."""
    return BOLD.sub(lambda m: "**" + m.group("body") + "**", text)


def plain(text: str) -> str:
    """Mentions as `@label` and bold without its stars (a terminal, a Slack plain_text field)."""
    return BOLD.sub(lambda m: m.group("body"), names(text))


def bare(text: str) -> str:
    """Mentions as `@label`, every `*` and backtick removed, links left as words: titles, buttons
    and card fields show no markup."""
    return defuse_links(_MARKUP_CHARS.sub("", names(text)))


def defuse_tags(text: str) -> str:
    """Markdown (DingTalk, WeCom) for text that may hold what a person typed: a `<` that opens markup
    the platforms obey, and not one of the core's mentions, is followed by a zero-width space, so
    `<@all>` (WeCom's mention of everyone) and `<font color=red>` (both platforms' colour tag) stay
    the characters typed. Placeholders such as `<n>` or `<金额>` in examples stay as they are."""
    out, at = [], 0
    for m in MENTION.finditer(text):
        before = _TAG.sub("<\u200b", text[at:m.start()])
        if before.endswith("<"):  # `<` + a mention: once rendered, `<@all>`
            before += "\u200b"
        out += [before, m.group(0)]
        at = m.end()
    out.append(_TAG.sub("<\u200b", text[at:]))
    return "".join(out)


def defuse_blocks(text: str) -> str:
    """Markdown (DingTalk, WeCom) for text that may hold what a person typed on several lines: a line
    that starts like a heading (`# `) or a quote (`>`) gets a zero-width space first, so a rep's
    `# 公司通知` stays a line of text in the channel, not a heading. The core writes no such lines."""
    return _BLOCK.sub(lambda m: m.group(1) + "\u200b" + m.group(2), text)


def defuse_links(text: str) -> str:
    """Markdown (DingTalk, WeCom) for text that may hold what a person typed: `[label](address)`
    stays words, never a link whose label hides its address (a zero-width space parts `]` and `(`)."""
    return _MD_LINK.sub(lambda m: "]\u200b" + m.group(0)[1:], text)


def printable(text: str) -> str:
    """Text for a terminal: control characters (escape sequences) shown as U+FFFD, never obeyed."""
    return _CONTROL.sub("\ufffd", text)


def live_id(uid: str) -> bool:
    """Whether a mention of `uid` may notify someone: a person's id, never a broadcast word."""
    return uid.casefold().lstrip("@") not in BROADCAST_IDS and not uid.startswith(("!", "@"))


def mentioned_ids(reply: Reply) -> list[str]:
    """The ids mentioned anywhere in the reply that may be live, in order, once each."""
    seen: list[str] = []
    for chunk in texts(reply):
        for m in MENTION.finditer(chunk):
            uid = m.group("uid")
            if live_id(uid) and uid not in seen:
                seen.append(uid)
    return seen


def texts(reply: Reply) -> Iterator[str]:
    """Every piece of text of a reply a person reads (paragraphs, fields, table cells)."""
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


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending in … when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def cut_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary, ending in … when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    return data[:room].decode("utf-8", errors="ignore").rstrip() + ELLIPSIS


def title(reply: Reply, limit: int) -> str:
    """A one-line title for a card or a notification: the summary, else the first paragraph's first
    line, without markup; "teambot" when there is nothing."""
    first = reply.summary or next((p.text for p in reply.parts if isinstance(p, Text)), "") or "teambot"
    return cut(bare(first.split("\n", 1)[0]).strip() or "teambot", limit)


def colon(label: str) -> str:
    """The colon after a label: full-width after Chinese ('负责人：'), ': ' after English ('Owner: ')."""
    last = label.rstrip()[-1:]
    return "：" if last and ("\u2e80" <= last <= "\u9fff" or "\uf900" <= last <= "\uffef") else ": "


def markdown(reply: Reply, inline: Callable[[str], str], *, br: str = "\n", listed: str = "",
             include_commands: bool = False) -> str:
    """A reply as markdown for platforms without tables or code blocks (DingTalk, WeCom): paragraphs,
    `**label**：value` lines, a table as a bold header line and one line per row with cells between
    " | ", a picture named by its alt text, and (with `include_commands`) buttons as the commands to
    type, each line starting with `listed`. `inline` renders a piece of core text; `br` is the
    platform's line break."""
    blocks: list[str] = []
    for p in reply.parts:
        if isinstance(p, Text):
            blocks.append(br.join(inline(p.text).split("\n")))
        elif isinstance(p, Fields):
            blocks.append(br.join(f"**{inline(k)}**{colon(k)}{inline(v)}" for k, v in p.pairs))
        elif isinstance(p, Table):
            lines = ["**" + " | ".join(inline(h) for h in p.header) + "**"]
            lines += [" | ".join(inline(c) for c in row) for row in p.rows]
            blocks.append(br.join(lines))
        elif isinstance(p, Image):
            blocks.append(f"🖼 {inline(p.alt)}")
        elif isinstance(p, Actions) and include_commands:
            blocks.append(br.join(f"{listed}{inline(b.label)}{colon(b.label)}`{b.command}`"
                                  for b in p.buttons if b.command))
    return "\n\n".join(b for b in blocks if b)

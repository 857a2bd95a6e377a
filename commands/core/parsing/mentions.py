"""Mentions: Slack's `<@U123|li>` and a bare `@name` (ASCII and full-width @), e-mail addresses excepted."""
from __future__ import annotations

import re
from dataclasses import dataclass

from commands.core.parsing.text import _nfkc


@dataclass(frozen=True)
class Mention:
    user_id: str | None  # Slack '<@U123|li>' / '<@U123>' -> 'U123'; None for a bare '@name'
    name: str | None     # '<@U123|li>' -> 'li'; '@li' / '@李雷' -> 'li' / '李雷'; '<@U123>' -> None
    raw: str             # the token as typed


_AT = "@＠﹫"
# Characters that end a bare @name: whitespace, another @, and punctuation (ASCII and CJK).
_NAME_STOP = r"\s@＠﹫<>,，;；:：()（）\[\]【】{}!！?？。、\"“”'‘’《》|"
_SLACK_RE = r"<@(?P<uid>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\|(?P<label>[^<>|]*))?>"
# A bare mention is not preceded by something that makes it an e-mail address (li@acme.com).
_BARE_RE = r"(?<![A-Za-z0-9._%+\-" + _AT + r"])[" + _AT + r"](?P<name>[^" + _NAME_STOP + r"]+)"
_MENTION = re.compile(rf"(?P<slack>{_SLACK_RE})|(?P<bare>{_BARE_RE})")
_TRAILING_PUNCT = ".,，;；:：!！?？。、)）"


def _mention_at(m: re.Match[str]) -> tuple[int, int, Mention] | None:
    if m.group("slack"):
        label = (m.group("label") or "").strip()
        return m.start(), m.end(), Mention(m.group("uid"), label or None, m.group(0))
    name = m.group("name").rstrip(".")
    if not name:
        return None
    end = m.start("name") + len(name)
    return m.start(), end, Mention(None, _nfkc(name), m.string[m.start():end])


def parse_mention(token: str) -> Mention | None:
    """One token -> a Mention, or None if it isn't one. Trailing punctuation ('@li,') is allowed."""
    tok = (token or "").strip()
    m = _MENTION.match(tok)
    if not m:
        return None
    found = _mention_at(m)
    if found is None:
        return None
    _, end, mention = found
    if tok[end:].strip(_TRAILING_PUNCT):
        return None
    return Mention(mention.user_id, mention.name, tok)


def take_mentions(text: str) -> tuple[list[Mention], str]:
    """All mentions in order, and the text without them (whitespace collapsed, otherwise as typed)."""
    text = text or ""
    mentions: list[Mention] = []
    rest: list[str] = []
    pos = 0
    for m in _MENTION.finditer(text):
        found = _mention_at(m)
        if found is None:
            continue
        start, end, mention = found
        mentions.append(mention)
        rest.append(text[pos:start])
        pos = end
    rest.append(text[pos:])
    return mentions, " ".join(" ".join(rest).split())

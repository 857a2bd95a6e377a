"""Typed text from platforms whose messages carry plain `@name`s (DingTalk, WeCom) -> an Invocation.

In a group the text may begin with the bot's own `@name`; a person may write `@我` for themself. The
bare-mention pattern is the core's (commands.core.parsing reads `@name` the same way): an `@`, `＠` or `﹫`
not inside a word or an e-mail address, then a name up to a space or a punctuation mark.
"""
from __future__ import annotations

import re
from datetime import datetime

from commands.core import router
from commands.core.context import Actor, Invocation

AT = "@＠﹫"
_STOP = r"\s@＠﹫<>,，;；:：()（）\[\]【】{}!！?？。、\"“”'‘’《》|"
#: `@name` as typed; group "name" is the name.
BARE_MENTION = re.compile(r"(?<![A-Za-z0-9._%+\-" + AT + r"])[" + AT + r"](?P<name>[^" + _STOP + r"]+)")
#: What the core accepts as an id inside `<@id|name>` (commands.core.parsing).
ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
#: Words that mean the sender themself (`@我`): never taken for somebody else's id.
SELF_NAMES = frozenset({"me", "myself", "self", "我", "自己", "本人"})


def mention_name(m: re.Match) -> str:
    """The name of a BARE_MENTION match, without a sentence's closing dot."""
    return m.group("name").rstrip(".")


def others(text: str) -> list[re.Match]:
    """The `@name`s of a text that name somebody other than the sender, in order."""
    return [m for m in BARE_MENTION.finditer(text) if mention_name(m).casefold() not in SELF_NAMES]


def replace_mentions(text: str, matches: list[tuple[re.Match, str]]) -> str:
    """`text` with each (match, replacement) put in place of the match's `@name`."""
    out: list[str] = []
    pos = 0
    for m, replacement in matches:
        out.append(text[pos:m.start()])
        out.append(replacement)
        pos = m.start("name") + len(mention_name(m))
    out.append(text[pos:])
    return "".join(out)


def strip_bot_mention(text: str) -> str:
    """Drop a leading `@name` (the bot's own, which some clients keep in the text) when a command
    follows it or nothing does."""
    text = (text or "").strip()
    m = BARE_MENTION.match(text)
    if m is None:
        return text
    rest = text[m.end():].strip()
    if not rest or router.find(router.split_command(rest)[0]) is not None:
        return rest
    return text


def invocation(*, platform: str, user_id: str, name: str, channel: str, text: str, received_at: datetime,
               delivery_key: str | None, direct: bool) -> Invocation:
    """The Invocation for a typed line; an empty line asks for help."""
    command, rest = router.split_command(text) if text else ("teambot", "help")
    return Invocation(actor=Actor(platform=platform, user_id=user_id, name=name or user_id), channel=channel,
                      command=command or "teambot", text=rest, received_at=received_at,
                      delivery_key=delivery_key, direct=direct)

"""Reply -> terminal text."""
from __future__ import annotations

import re

from commands.reply import Reply

_MENTION = re.compile(r"<@([^>|]+)(?:\|([^>]+))?>")
_BOLD = re.compile(r"(?<!\w)\*([^*\n]+)\*(?!\w)")


def text(reply: Reply) -> str:
    out = reply.plain()
    out = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), out)
    return _BOLD.sub(r"\1", out)

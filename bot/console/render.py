"""Reply -> terminal text."""
from __future__ import annotations

import re
from dataclasses import replace

from commands.core.reply import Actions, Button, Fields, Reply, Table, Text

_MENTION = re.compile(r"<@([^>|]+)(?:\|([^>]+))?>")
_BOLD = re.compile(r"(?<!\w)\*([^*\n]+)\*(?!\w)")


def _clean(s: str) -> str:
    s = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), s)
    return _BOLD.sub(r"\1", s)


def text(reply: Reply) -> str:
    # Clean every cell before the table is laid out, so that columns stay aligned.
    parts = []
    for p in reply.parts:
        if isinstance(p, Text):
            p = Text(_clean(p.text))
        elif isinstance(p, Fields):
            p = Fields(tuple((_clean(k), _clean(v)) for k, v in p.pairs))
        elif isinstance(p, Table):
            p = Table(tuple(_clean(h) for h in p.header), tuple(tuple(_clean(c) for c in r) for r in p.rows))
        elif isinstance(p, Actions):
            p = Actions(tuple(Button(**{**b.__dict__, "label": _clean(b.label)}) for b in p.buttons))
        parts.append(p)
    return replace(reply, parts=tuple(parts)).plain()

"""Reply -> terminal text: mentions as @name, no markup, and no control characters (what a person
typed is shown, never obeyed by the terminal)."""
from __future__ import annotations

from dataclasses import replace

from bot.kit.markup import plain, printable
from commands.core.reply import Actions, Button, Fields, Reply, Table, Text


def text(reply: Reply) -> str:
    # Clean every cell before the table is laid out, so that columns stay aligned.
    parts = []
    for p in reply.parts:
        if isinstance(p, Text):
            p = Text(plain(p.text))
        elif isinstance(p, Fields):
            p = Fields(tuple((plain(k), plain(v)) for k, v in p.pairs))
        elif isinstance(p, Table):
            p = Table(tuple(plain(h) for h in p.header), tuple(tuple(plain(c) for c in r) for r in p.rows))
        elif isinstance(p, Actions):
            p = Actions(tuple(Button(**{**b.__dict__, "label": plain(b.label)}) for b in p.buttons))
        parts.append(p)
    return printable(replace(reply, parts=tuple(parts)).plain())

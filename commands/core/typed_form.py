"""Commands written back the way the user wrote them.

Someone who typed `/团队 …` reads `用 /团队 添加 …` in hints and examples, not `/team add …`; someone who
typed `/task add …` in a Chinese team reads `/task add …`. The form is: the command alias as typed
(`/团队`, `/任务`; the command's own name when typed in English, the only form Slack's slash commands
have) and whether keywords are Chinese (the script of the keyword typed; else Chinese when the
command was typed in Chinese; else the reader's language). `rewrite` applies it to every command
written in a reply: the command word, the keyword after it, and the separators of that command
(截止/due, 备注/note, 为/for, 因为/because, 用于/for, 需要/need, 到/until).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from commands.core import router

#: Per command: English separator word -> Chinese, swapped within that command's example.
SEPARATORS: dict[str, dict[str, str]] = {
    "task": {"due": "截止", "note": "备注", "to": "给"},
    "goal": {"for": "为", "because": "因为", "by": "截止", "team": "团队", "me": "我"},
    "resource": {"for": "用于", "by": "截止", "need": "需要"},
    "teambot": {"until": "到"},
    "kpi": {"add": "添加", "list": "列表"},
    "agenda": {"weekly": "每周"},
    "progress": {"blocker:": "阻塞:"},
}


@dataclass(frozen=True)
class TypedForm:
    #: The command alias as typed when it is not the command's own name ("团队"), else None.
    command: str | None
    #: Keywords in Chinese.
    chinese: bool


def _cjk(word: str) -> bool:
    return any(not c.isascii() for c in word)


def form_of(route: router.Route | None, command: str, text: str, lang: str, keyword: str | None = None) -> TypedForm:
    """The form of what was typed: `command` as typed (without the slash), `text` after it, and the
    keyword the feature read (or the typo it suggested a keyword for), when known."""
    typed = router.command_word(command)
    cjk_command = _cjk(typed)
    alias = typed if cjk_command else None
    word = keyword
    if word is None and route is not None:
        head = (text or "").split(maxsplit=1)[0] if (text or "").split() else ""
        # `/teambot help` is how anyone asks for help: it says nothing about the form they prefer.
        if head and head.casefold() in _keyword_words(route.name) and head.casefold() != "help":
            word = head
    if word:
        chinese = _cjk(word)
    elif cjk_command:
        chinese = True
    else:
        chinese = lang == "zh"
    return TypedForm(alias, chinese)


@cache
def _tables(route_name: str) -> tuple[dict[str, tuple[str, ...]], ...]:
    route = next((r for r in router.ROUTES if r.name == route_name), None)
    if route is None:
        return ()
    module = router.module(route)
    return tuple(t for t in (getattr(module, "KEYWORDS", None), getattr(module, "SCOPES", None)) if t)


@cache
def _keyword_words(route_name: str) -> frozenset[str]:
    return frozenset(a.casefold() for table in _tables(route_name) for names in table.values() for a in names)


@cache
def _keyword_swap(route_name: str, chinese: bool) -> dict[str, str]:
    """Any alias of a keyword -> that keyword's first alias in the wanted script."""
    out: dict[str, str] = {}
    for table in _tables(route_name):
        for names in table.values():
            want = next((n for n in names if _cjk(n) == chinese), None)
            if want is None:
                continue
            for n in names:
                out.setdefault(n.casefold(), want)
    return out


def command_alias(route: router.Route, form: TypedForm, current: str | None) -> str:
    """How to write `route` for this reader: the alias typed for the current command; another
    command in Chinese when the current one was typed in Chinese; else the command's name."""
    if form.command is not None:
        if route.name == current:
            return form.command
        return next((a for a in route.aliases if _cjk(a)), route.name)
    return route.name


_COMMAND = re.compile(r"(?<![\w/:.@<\-])[/、](?P<name>[^\s/、`*]+)")
_SEGMENT_END = re.compile(r"  ·  |\n|（|\(|；|`|。|，|(?=\s[/、][^\s/、])")


def rewrite(text: str, form: TypedForm, current: str | None) -> str:
    """Every `/command keyword …` in text written in the reader's form (see the module docstring)."""
    if not text or ("/" not in text and "、" not in text):
        return text
    out: list[str] = []
    pos = 0
    for m in _COMMAND.finditer(text):
        route = router.find(m.group("name"))
        if route is None or m.start() < pos:
            continue
        end = _SEGMENT_END.search(text, m.end())
        stop = end.start() if end else len(text)
        out.append(text[pos:m.start()])
        out.append("/" + command_alias(route, form, current))
        out.append(_words(text[m.end():stop], route.name, form.chinese))
        pos = stop
    out.append(text[pos:])
    return "".join(out)


def _words(segment: str, route_name: str, chinese: bool) -> str:
    """The keyword right after the command and the command's separators, in the wanted script."""
    parts = re.split(r"(\s+)", segment)
    swap = _keyword_swap(route_name, chinese)
    seps = SEPARATORS.get(route_name, {})
    seps = seps if chinese else {zh: en for en, zh in seps.items()}
    first = True
    for i, p in enumerate(parts):
        if not p or p.isspace():
            continue
        low = p.casefold()
        if first:
            first = False
            if low in swap:
                parts[i] = swap[low]
                continue
        if low in seps:
            parts[i] = seps[low]
    return "".join(parts)

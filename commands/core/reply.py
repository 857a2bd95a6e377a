"""Platform-neutral replies. Renderers in bot/ turn these into Block Kit, markdown or plain text."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Text:
    """A paragraph. `*bold*` and line breaks are the only markup renderers must understand."""
    text: str


@dataclass(frozen=True)
class Fields:
    """Label/value pairs, shown as a two-column block."""
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    #: The same action written as a command, for platforms without buttons.
    command: str = ""
    style: str | None = None  # "primary" | "danger"


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Image:
    """A picture file on local disk (or an https URL); adapters upload or link it."""
    path: str
    alt: str


@dataclass(frozen=True)
class File:
    """A file to hand over (a CSV export); adapters upload it, the console writes it to disk."""
    path: str
    title: str
    mime: str = "text/csv"


@dataclass(frozen=True)
class Choice:
    """One option of a `select` form field."""
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input of a Form. `kind` is one of FORM_KINDS; values come back as strings (a user id,
    a channel id, YYYY-MM-DD, HH:MM, an option's value, or the text typed)."""
    name: str
    kind: str
    label: str
    required: bool = True
    initial: str = ""
    placeholder: str = ""
    hint: str = ""
    options: tuple[Choice, ...] = ()
    max_length: int = 0


FORM_KINDS = ("user", "channel", "date", "time", "select", "amount", "number", "text", "multiline")


@dataclass(frozen=True)
class Form:
    """A form to fill in instead of typing a command (a Slack modal). commands/core/forms.py builds it and
    turns the submitted values back into the typed command. Platforms without forms show the usage
    card, a Text part the same Reply carries next to it, so a Form itself adds nothing to plain()."""
    form_id: str
    title: str
    submit: str
    fields: tuple[FormField, ...]
    #: Carried unchanged from the form to its submission (e.g. the command a prompt completes).
    state: str = ""


Part = Text | Fields | Table | Actions | Image | File | Form


@dataclass(frozen=True)
class Reply:
    parts: tuple[Part, ...] = ()
    #: Private replies are seen by the caller only (ephemeral in Slack).
    private: bool = True
    #: False for refusals and usage errors, so adapters and tests can tell them apart.
    ok: bool = True
    #: One-line summary used as notification text and plain-text fallback.
    summary: str = ""
    #: For refusals and usage errors: the catalog key of the message (lets a form show it on the
    #: field it is about). Empty otherwise.
    error: str = ""

    @staticmethod
    def text(text: str, *, private: bool = True, ok: bool = True) -> Reply:
        return Reply(parts=(Text(text),), private=private, ok=ok, summary=text.split("\n", 1)[0])

    def plain(self) -> str:
        """Everything a person would read, as plain text (console, tests, fallbacks)."""
        out: list[str] = []
        for p in self.parts:
            if isinstance(p, Text):
                out.append(p.text)
            elif isinstance(p, Fields):
                out.extend(f"{k}{label_sep(k)}{v}" for k, v in p.pairs)
            elif isinstance(p, Table):
                out.append(_table_text(p))
            elif isinstance(p, Actions):
                out.append("  ".join(f"[{b.label}]" + (f" ({b.command})" if b.command else "")
                                     for b in p.buttons))
            elif isinstance(p, Image):
                out.append(f"[{p.alt}: {p.path}]")
            elif isinstance(p, File):
                out.append(f"[{p.title}: {p.path}]")
            # A Form adds nothing: its usage card is a Text part of the same reply.
        return "\n".join(out)


def label_sep(label: str) -> str:
    """What goes between a label and its value: '负责人：' in Chinese, 'Owner: ' in English."""
    label = (label or "").rstrip()
    return "：" if label and not label[-1].isascii() else ": "


def _width(s: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(c) > 0x2E7F else 1 for c in s)


def _table_text(t: Table) -> str:
    cols = [list(t.header)] + [list(r) for r in t.rows]
    widths = [max(_width(row[i]) for row in cols) for i in range(len(t.header))]

    def line(row: list[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths)).rstrip()

    return "\n".join([line(cols[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cols[1:]])


@dataclass
class Outgoing:
    """A message a command causes besides its reply (a DM, a channel post). Queued in the outbox."""
    destination: str  # "user:<id>" or "channel:<id>"
    reply: Reply
    dedupe_key: str | None = None
    meta: dict = field(default_factory=dict)


_PART_TYPES = {cls.__name__: cls for cls in (Text, Fields, Table, Actions, Image, File, Form)}


def reply_to_dict(reply: Reply) -> dict:
    def part(p: Part) -> dict:
        if isinstance(p, Actions):
            return {"type": "Actions", "buttons": [b.__dict__ for b in p.buttons]}
        if isinstance(p, Form):
            return {"type": "Form", **asdict(p)}
        d = {"type": type(p).__name__}
        d.update({k: v for k, v in p.__dict__.items()})
        return d

    d = {"parts": [part(p) for p in reply.parts], "private": reply.private, "ok": reply.ok,
         "summary": reply.summary}
    if reply.error:
        d["error"] = reply.error
    return d


def reply_from_dict(d: dict) -> Reply:
    parts: list[Part] = []
    for p in d.get("parts", []):
        kind = p["type"]
        if kind == "Actions":
            parts.append(Actions(tuple(Button(**b) for b in p["buttons"])))
        elif kind == "Fields":
            parts.append(Fields(tuple(tuple(x) for x in p["pairs"])))
        elif kind == "Table":
            parts.append(Table(tuple(p["header"]), tuple(tuple(r) for r in p["rows"])))
        elif kind == "Form":
            fields = tuple(FormField(**{**f, "options": tuple(Choice(**o) for o in f.get("options", ()))})
                           for f in p["fields"])
            parts.append(Form(form_id=p["form_id"], title=p["title"], submit=p["submit"], fields=fields,
                              state=p.get("state", "")))
        else:
            cls = _PART_TYPES[kind]
            parts.append(cls(**{k: v for k, v in p.items() if k != "type"}))
    return Reply(parts=tuple(parts), private=d.get("private", True), ok=d.get("ok", True),
                 summary=d.get("summary", ""), error=d.get("error", ""))

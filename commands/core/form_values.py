"""What a form's submitted values become: helpers for the features' compose functions (FeatureForm),
which turn the values into the command a person would type."""
from __future__ import annotations

from commands.core import parsing
from commands.core.errors import UsageError


class FieldError(UsageError):
    """A submitted value the form itself can tell is wrong; `field` names the input it is about."""

    def __init__(self, field: str, key: str, **args):
        super().__init__(key, example="-", **args)
        self.field = field


def flat(v: str | None) -> str:
    """One line: a title or purpose typed with line breaks reads the same as typed on one line."""
    return " ".join((v or "").split())


def who(v: str) -> str:
    """A picked user as a mention ("U2" -> "<@U2>"); "" when none was picked."""
    v = (v or "").strip()
    if not v:
        return ""
    return v if v.startswith(("<@", "@")) else f"<@{v}>"


def amount(field: str, v: str) -> str:
    """The amount as one word ("50 万" -> "50万"), checked the way the command will read it."""
    compact = "".join((v or "").split())
    try:
        parsing.parse_amount(compact)
    except UsageError as e:
        raise FieldError(field, e.key, **e.args_) from None
    return compact


def required(values: dict, field: str) -> str:
    v = (values.get(field) or "").strip()
    if not v:
        raise FieldError(field, "forms.required")
    return v

"""The seed's roles table: who does what and whom they mainly talk to."""
from __future__ import annotations

from dataclasses import dataclass

from commands.core import suggest
from commands.core.errors import Refused, UsageError
from commands.i18n import t


@dataclass(frozen=True)
class Role:
    code: str
    names: tuple[str, ...]  # what people type: code, Chinese name, English words
    talks_to: tuple[str, ...]


ROLES: dict[str, Role] = {r.code: r for r in (
    Role("manager", ("manager", "销售经理", "经理", "sales manager"),
         ("rep", "account_manager", "marketing", "resource_admin", "performance_admin")),
    Role("rep", ("rep", "销售代表", "销售", "sales rep", "sales"), ("manager", "account_manager", "marketing")),
    Role("account_manager", ("account_manager", "客户经理", "am", "account manager"),
         ("rep", "marketing", "manager")),
    Role("marketing", ("marketing", "市场部", "市场", "mkt"), ("rep", "account_manager", "manager")),
    Role("resource_admin", ("resource_admin", "资源管理部", "资源管理", "resources"), ("manager", "rep")),
    Role("performance_admin", ("performance_admin", "绩效管理部", "绩效管理", "hr"), ("manager",)),
)}

_BY_NAME = {n.casefold(): r.code for r in ROLES.values() for n in r.names}


def find_role(text: str) -> str:
    code = _BY_NAME.get(text.strip().casefold().replace("-", "_"))
    if code is None:
        guess = suggest.closest(text.strip(), [n for r in ROLES.values() for n in r.names])
        raise UsageError("team.unknown_role", role=text, known=", ".join(ROLES)).suggesting(guess)
    return code


def role_name(code: str, lang: str) -> str:
    return t(lang, f"roles.{code}.name")


def role_duty(code: str, lang: str) -> str:
    return t(lang, f"roles.{code}.duty")


def require_manager(ctx) -> None:
    """Manager-only steps. Checked on the server for typed commands and button clicks alike."""
    if ctx.role != "manager":
        raise Refused("core.manager_only", example="-")

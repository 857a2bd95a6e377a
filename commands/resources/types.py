"""Resource types and amounts, as a person reads them in either language."""
from __future__ import annotations

from commands.core import fmt
from commands.i18n import t
from storage.models import ResourceRequest

TYPES: dict[str, tuple[str, ...]] = {
    "people": ("people", "person", "persons", "staff", "headcount", "hc", "人力", "人员", "人手"),
    "customers": ("customers", "customer", "leads", "lead", "客户", "客户资源", "客户名单", "线索"),
    "marketing": ("marketing", "channels", "channel", "mkt", "市场", "市场渠道", "渠道", "推广"),
    "budget": ("budget", "money", "funds", "fund", "cny", "财务", "预算", "经费", "资金"),
}
_TYPE_ALIASES = sorted(((a.casefold(), code) for code, names in TYPES.items() for a in names),
                       key=lambda x: len(x[0]), reverse=True)
MAX_AMOUNT = 10**12
MAX_PURPOSE = 300
MAX_NOTE = 1000
LIST_LIMIT = 30
#: Request ids are INTEGER columns; a bigger number can't be an id (and must not reach the database).
MAX_ID = 2**31 - 1


def type_name(code: str, lang: str) -> str:
    return t(lang, f"resources.type_{code}")


def amount_text(code: str, n: int | None, lang: str) -> str:
    """'2 人' / '2 people', '¥50,000（5万）'."""
    if n is None:
        return "—"
    if code == "budget":
        return fmt.amount(n, "CNY", lang)
    return t(lang, f"resources.unit_{code}", n=fmt.number(n))


def what(row: ResourceRequest, lang: str) -> str:
    """'人力 2 人' / 'people: 2 people'."""
    return t(lang, "resources.what", type=type_name(row.type, lang), amount=amount_text(row.type, row.amount, lang))


def state_name(state: str, lang: str) -> str:
    return t(lang, f"resources.state_{state}")


def _types_list(lang: str) -> str:
    return ", ".join(f"{code} {type_name(code, lang)}" for code in TYPES)

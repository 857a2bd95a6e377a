"""`teambot import customers FILE --team <name> [--apply]`: a team's existing sheet into the database.

A dry run by default: it reads the sheet (commands/customers/sheet.py), checks each row against the
team's customers and against the rows above it with the same 查重 keys as /customer add, and reports
what it would add, the duplicates and the bad rows with their line numbers. `--apply` writes the new
rows only, in one transaction, so running it twice adds nothing the second time; a row that someone
adds meanwhile is refused by the same UNIQUE keys and the whole import is rolled back (run it again).

Imported customers are written with `created_by = IMPORTER` and their first stage-history row by the
same id, so KPIs that count customers reaching a stage in a period can leave an import out: a sheet
of last year's customers is not this month's 高质量客户.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from commands.core.people import member_named, team_members
from commands.customers.sheet import BadRow, Sheet, SheetRow
from commands.customers.stages import stage_name
from commands.i18n import t
from storage.customer_queries import IMPORTER
from storage.models import Customer, CustomerStageChange, Team

#: Owner cells that put a customer in the pool (公海).
POOL_WORDS = ("公海", "pool", "无", "none", "-", "—")
#: Duplicates and bad rows listed one by one at most (the rest are counted).
MAX_LISTED = 50


@dataclass
class Plan:
    team: Team
    sheet: Sheet
    new: list[tuple[SheetRow, str | None]] = field(default_factory=list)
    #: (line, name as typed, why: a catalog key under import., its arguments)
    duplicates: list[tuple[int, str, str, dict]] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    #: user id -> how the report names them (@display name; a file is read by people, not a platform).
    names: dict[str, str] = field(default_factory=dict)

    def who(self, user_id: str) -> str:
        return "@" + self.names.get(user_id, user_id)


def plan(session, team: Team, sheet: Sheet, lang: str) -> Plan:
    """What the import would do: no writes."""
    out = Plan(team, sheet, bad=list(sheet.bad),
               names={m.user_id: m.display_name or m.user_id for m in team_members(session, team.id)})
    rows = sheet.rows
    existing = _existing(session, team.id, rows)
    seen_name: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    for row in rows:
        key, phone = row.name_key, row.phone_key
        found = existing["name"].get(key) or (existing["phone"].get(phone) if phone else None)
        if found is not None:
            out.duplicates.append((row.line, row.name, "dup_existing",
                                   {"id": found.id, "existing": found.name, "holder": _holder(found, out, lang)}))
            continue
        earlier = seen_name.get(key) or (seen_phone.get(phone) if phone else None)
        if earlier is not None:
            out.duplicates.append((row.line, row.name, "dup_in_file", {"first": earlier}))
            continue
        owner = _owner(session, team, row)
        if owner is False:
            out.bad.append(BadRow(row.line, "unknown_owner", {"owner": row.owner}))
            continue
        seen_name[key] = row.line
        if phone:
            seen_phone[phone] = row.line
        out.new.append((row, owner))
    out.bad.sort(key=lambda b: b.line)
    return out


def apply(session, p: Plan, now: datetime) -> int:
    """Write the new rows of a plan; returns how many. The caller's unit of work commits."""
    for row, owner in p.new:
        c = Customer(team_id=p.team.id, name=row.name, name_key=row.name_key, phone=row.phone,
                     phone_key=row.phone_key, contact=row.contact, source=row.source, stage=row.stage,
                     amount=row.amount, lost_reason=row.lost_reason, owner_id=owner, created_by=IMPORTER,
                     created_at=now, stage_changed_at=now, active_at=now, updated_at=now)
        session.add(c)
        session.flush()
        session.add(CustomerStageChange(customer_id=c.id, team_id=p.team.id, from_stage=None, to_stage=row.stage,
                                        amount=row.amount, owner_id=owner, by=IMPORTER, at=now,
                                        reason=t(p.team.lang, "import.history_reason")))
    session.flush()
    return len(p.new)


def report(p: Plan, lang: str, *, file: str, applied: bool) -> str:
    """The text the CLI prints: counts, then each duplicate and bad row with its line number."""
    head = t(lang, "import.applied" if applied else "import.dry_run", team=p.team.name, file=file,
             encoding=p.sheet.encoding)
    lines = [head, t(lang, "import.counts", new=len(p.new), dup=len(p.duplicates), bad=len(p.bad))]
    if p.new and not applied:
        lines.append(t(lang, "import.new_head"))
        lines += [f"  {t(lang, 'import.line', line=row.line)} {row.name} · {stage_name(row.stage, lang)} · "
                  f"{p.who(owner) if owner else t(lang, 'import.pool')}" for row, owner in p.new[:MAX_LISTED]]
        lines += _more(lang, len(p.new))
    if p.duplicates:
        lines.append(t(lang, "import.dup_head"))
        lines += [f"  {t(lang, 'import.line', line=line)} {name}{_colon(lang)}{t(lang, 'import.' + why, **args)}"
                  for line, name, why, args in p.duplicates[:MAX_LISTED]]
        lines += _more(lang, len(p.duplicates))
    if p.bad:
        lines.append(t(lang, "import.bad_head"))
        lines += [f"  {t(lang, 'import.line', line=b.line)}{_colon(lang)}{t(lang, 'import.bad_' + b.why, **b.args)}"
                  for b in p.bad[:MAX_LISTED]]
        lines += _more(lang, len(p.bad))
    if p.sheet.ignored:
        lines.append(t(lang, "import.ignored", headers="、".join(p.sheet.ignored) if lang == "zh"
                       else ", ".join(p.sheet.ignored)))
    if not applied:
        lines.append(t(lang, "import.how_to_apply" if p.new else "import.nothing_to_apply"))
    return "\n".join(lines)


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _more(lang: str, n: int) -> list[str]:
    return [t(lang, "import.more", n=n - MAX_LISTED)] if n > MAX_LISTED else []


def _existing(session, team_id: int, rows: list[SheetRow]) -> dict[str, dict]:
    """The team's customers that share a name or phone key with the sheet, by key."""
    names = {r.name_key for r in rows}
    phones = {r.phone_key for r in rows if r.phone_key}
    out: dict[str, dict] = {"name": {}, "phone": {}}
    names_l, phones_l = sorted(names), sorted(phones)
    # In slices: a parameter list per statement stays well under SQLite's and PostgreSQL's limits.
    for i in range(0, max(len(names_l), len(phones_l)), 500):
        cond = [Customer.name_key.in_(names_l[i:i + 500])]
        if phones_l[i:i + 500]:
            cond.append(Customer.phone_key.in_(phones_l[i:i + 500]))
        for c in session.scalars(select(Customer).where(Customer.team_id == team_id, or_(*cond))):
            out["name"][c.name_key] = c
            if c.phone_key:
                out["phone"][c.phone_key] = c
    return out


def _owner(session, team: Team, row: SheetRow) -> str | None | bool:
    """The owner's user id; None for the pool (an empty cell or 公海); False when nobody is called that."""
    if not row.owner or row.owner.casefold() in POOL_WORDS:
        return None
    m = member_named(session, team.id, row.owner)
    return m.user_id if m is not None else False


def _holder(c: Customer, p: Plan, lang: str) -> str:
    return t(lang, "import.owned_by", who=p.who(c.owner_id)) if c.owner_id else t(lang, "import.in_pool")

"""Reading the customer sheet a team already keeps: a CSV exported from Excel or 简道云.

Pure: bytes in, rows out. The file may be UTF-8, UTF-8 with a byte-order mark (Excel's "CSV UTF-8")
or GBK/GB18030 (Excel's "CSV" on a Chinese Windows); headers may be Chinese or English, in any order,
with any extra columns (they are listed as ignored). Each data row becomes a SheetRow or a BadRow that
names its line number (as Excel shows it: the header is line 1) and what is wrong with it.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from commands.core.errors import UsageError
from commands.core.parsing import parse_amount
from commands.customers.names import looks_like_phone, name_key, phone_key
from commands.customers.stages import stage_of

#: Column -> the headers it is known by (compared after NFKC, case and spaces folded).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("客户名称", "客户", "客户名", "公司", "公司名称", "企业名称", "单位名称", "名称",
             "company", "company name", "customer", "customer name", "account", "account name", "name"),
    "contact": ("联系人", "联系人姓名", "客户联系人", "contact", "contact name", "contact person"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "联系方式",
              "phone", "mobile", "tel", "telephone", "phone number"),
    "stage": ("阶段", "销售阶段", "客户阶段", "跟进阶段", "stage", "sales stage"),
    "owner": ("负责人", "归属人", "跟进人", "销售", "客户负责人", "owner", "sales rep", "rep"),
    "source": ("来源", "客户来源", "渠道", "source", "lead source"),
    "amount": ("金额", "预计金额", "商机金额", "成交金额", "amount", "deal size", "deal amount"),
    "lost_reason": ("输单原因", "丢单原因", "原因", "lost reason", "reason"),
}
MAX_NAME, MAX_TEXT = 120, 80
#: A sheet larger than this is refused before any row is read (a team's list, not a data dump).
MAX_BYTES = 20 * 1024 * 1024


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


_HEADER = {_fold(h): col for col, names in COLUMNS.items() for h in names}


@dataclass(frozen=True)
class SheetRow:
    line: int
    name: str
    contact: str = ""
    phone: str | None = None
    stage: str = "lead"
    owner: str = ""
    source: str = ""
    amount: float | None = None
    lost_reason: str = ""

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    @property
    def phone_key(self) -> str | None:
        return phone_key(self.phone)


@dataclass(frozen=True)
class BadRow:
    line: int
    #: Catalog key under `import.` saying what is wrong, and its arguments.
    why: str
    args: dict = field(default_factory=dict)


@dataclass
class Sheet:
    encoding: str
    rows: list[SheetRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    #: Headers that are none of COLUMNS' (left out, and said so).
    ignored: list[str] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """-> (text, the encoding it was read as). UTF-8 (with or without BOM) first, then GB18030,
    which reads every GBK file; UsageError when it is neither."""
    for encoding, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GBK")):
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    raise UsageError("import.not_text", example="import.example")


def read(data: bytes) -> Sheet:
    """The rows of a sheet. UsageError when the file cannot be a customer sheet at all (not text,
    no header with a customer-name column, too large)."""
    if len(data) > MAX_BYTES:
        raise UsageError("import.too_large", mb=MAX_BYTES // (1024 * 1024), example="import.example")
    text, encoding = decode(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    lines = csv.reader(io.StringIO(text, newline=""), dialect)
    sheet = Sheet(encoding)
    columns: dict[int, str] | None = None
    for line, cells in enumerate(lines, start=1):
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            columns = _columns(cells, sheet)
            continue
        row = {col: cells[i].strip() for i, col in columns.items() if i < len(cells)}
        try:
            sheet.rows.append(_row(line, row))
        except _Bad as bad:
            sheet.bad.append(BadRow(line, bad.why, bad.params))
    if columns is None:
        raise UsageError("import.empty", example="import.example")
    return sheet


def _columns(header: list[str], sheet: Sheet) -> dict[int, str]:
    columns: dict[int, str] = {}
    for i, cell in enumerate(header):
        col = _HEADER.get(_fold(cell))
        if col is None or col in columns.values():
            if cell.strip():
                sheet.ignored.append(cell.strip())
            continue
        columns[i] = col
    if "name" not in columns.values():
        raise UsageError("import.no_name_column", headers="、".join(h.strip() for h in header if h.strip()) or "—",
                         example="import.example")
    return columns


class _Bad(Exception):
    def __init__(self, why: str, **args):
        super().__init__(why)
        self.why, self.params = why, args


def _row(line: int, row: dict[str, str]) -> SheetRow:
    name = " ".join(row.get("name", "").split())
    if not name:
        raise _Bad("no_name")
    if len(name) > MAX_NAME:
        raise _Bad("name_too_long", max=MAX_NAME)
    phone = row.get("phone") or None
    if phone is not None and not looks_like_phone(phone):
        raise _Bad("phone", value=phone)
    stage = "lead"
    if row.get("stage"):
        stage = stage_of(row["stage"]) or ""
        if not stage:
            raise _Bad("stage", value=row["stage"])
    amount = None
    if row.get("amount"):
        try:
            amount = float(parse_amount(row["amount"].replace("¥", "").replace("￥", "")).value)
        except UsageError:
            raise _Bad("amount", value=row["amount"]) from None
        if amount < 0:
            raise _Bad("amount", value=row["amount"])
    lost_reason = row.get("lost_reason", "")
    if stage == "lost" and not lost_reason:
        raise _Bad("lost_without_reason")
    return SheetRow(line=line, name=name, contact=row.get("contact", "")[:MAX_TEXT], phone=phone, stage=stage,
                    owner=row.get("owner", "").lstrip("@＠").strip(), source=row.get("source", "")[:MAX_TEXT],
                    amount=amount, lost_reason=lost_reason[:500])

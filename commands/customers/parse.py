"""/customer text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from commands.core import paging, parsing, suggest
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import keyword, split_head
from commands.customers.names import looks_like_phone
from commands.customers.stages import stage_of

MAX_NAME = 120
MAX_FIELD = 80
MAX_REASON = 500
LIST_LIMIT = 30
MAX_ID = 2**31 - 1
MAX_AMOUNT = 1e13


@dataclass(frozen=True)
class Ref:
    """How a command names a customer: its id (#12, 12) or a part of its name."""
    id: int | None
    text: str


@dataclass(frozen=True)
class AddCustomer:
    name: str
    phone: str | None = None
    contact: str = ""
    stage: str = "lead"
    #: None: the caller; POOL: the team's pool.
    owner: parsing.Mention | str | None = None
    source: str = ""
    amount: float | None = None


POOL = "pool"


@dataclass(frozen=True)
class ListCustomers:
    scope: str  # auto | mine | pool | stale | team | user
    who: parsing.Mention | None = None
    stage: str | None = None
    page: int = 1


@dataclass(frozen=True)
class ShowCustomer:
    ref: Ref


@dataclass(frozen=True)
class SetStage:
    ref: Ref
    stage: str
    amount: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class RenameCustomer:
    ref: Ref
    name: str


@dataclass(frozen=True)
class EditCustomer:
    """`edit <customer> phone=… contact=… source=…` (phone=none clears it)."""
    ref: Ref
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ClaimCustomer:
    ref: Ref


@dataclass(frozen=True)
class ReleaseCustomer:
    ref: Ref
    reason: str = ""


@dataclass(frozen=True)
class TransferCustomers:
    #: None: every customer of `source`.
    ref: Ref | None
    source: parsing.Mention | None
    target: parsing.Mention


KEYWORDS = {
    "add": ("add", "new", "create", "新建", "添加", "新增", "录入", "创建"),
    "list": ("list", "ls", "列表", "清单", "名单"),
    "show": ("show", "view", "info", "detail", "details", "查看", "详情", "看看"),
    "stage": ("stage", "move", "阶段", "推进", "更新阶段"),
    "rename": ("rename", "改名", "重命名", "更名"),
    "edit": ("edit", "set", "update", "修改", "更新", "编辑", "补充"),
    "rules": ("rules", "rule", "settings", "config", "规则", "公海规则", "客户规则", "设置", "配置"),
    "claim": ("claim", "认领", "领取", "捞回"),
    "release": ("release", "释放", "退回公海", "放回公海", "放弃"),
    "transfer": ("transfer", "handover", "移交", "交接", "转移"),
}
SCOPES = {
    "mine": ("mine", "my", "me", "我的", "我"),
    "pool": ("pool", "公海", "公海池"),
    "stale": ("stale", "expiring", "快到期", "将到期", "即将回收", "待回收", "沉睡"),
    "team": ("team", "all", "团队", "全部", "全队"),
}
SELF_NAMES = frozenset({"me", "myself", "self", "我", "自己", "本人"})
POOL_WORDS = frozenset({"pool", "公海", "公海池", "none", "无"})
ALL_WORDS = frozenset({"all", "全部", "所有", "everything"})

#: key=value keys (key: field). Full-width ＝ and ： arrive as = and : (router.normalize).
FIELDS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "tel", "mobile", "电话", "手机", "手机号", "电话号码", "联系电话"),
    "contact": ("contact", "联系人", "对接人"),
    "stage": ("stage", "阶段"),
    "owner": ("owner", "负责人", "归属", "销售"),
    "source": ("source", "来源", "渠道"),
    "amount": ("amount", "deal", "金额", "预计金额", "合同金额", "成交金额"),
}
_FIELD_BY_KEY = {k.casefold(): f for f, keys in FIELDS.items() for k in keys}
_KEYS = sorted(_FIELD_BY_KEY, key=len, reverse=True)
_ASCII_KEYS = "|".join(re.escape(k) for k in _KEYS if k.isascii())
_CN_KEYS = "|".join(re.escape(k) for k in _KEYS if not k.isascii())
#: A key: ASCII ones as whole words, Chinese ones also run into the text before them (杭州云帆电话=…).
_PAIR = re.compile(rf"(?:(?<!\S)(?P<a>{_ASCII_KEYS})|(?P<c>{_CN_KEYS}))\s*[=:]\s*", re.IGNORECASE)
_ID = re.compile(r"#?(\d{1,18})")
_TRIM = " \t\n,，;；、。"
_REASON_WORDS = ("because", "reason", "原因", "理由", "因为", "由于")


def parse(text: str, ctx: Ctx):
    try:
        return _parse(text, ctx)
    except UsageError as e:
        raise e.with_example("customers.example") from None


def _parse(text: str, ctx: Ctx):
    if not text:
        return ListCustomers("auto")
    kw, head, rest = split_head(text, KEYWORDS)
    if kw is None and (keyword(head, SCOPES) or stage_of(head)):
        kw, rest = "list", text  # "/customer 公海", "/客户 我的", "/customer won"
    if kw is None:
        raise UsageError("customers.unknown_keyword", word=head, example="customers.example")
    example = f"customers.example_{kw}"
    try:
        return _KINDS[kw](rest, ctx)
    except UsageError as e:
        raise e.with_example(example) from None


def split_fields(text: str) -> tuple[str, dict[str, str]]:
    """'杭州云帆 电话=138… 联系人：陈总' -> ('杭州云帆', {'phone': '138…', 'contact': '陈总'}). A value runs to
    the next key (so it may hold spaces: contact=John Smith)."""
    found = list(_PAIR.finditer(text))
    head = text[:found[0].start()] if found else text
    fields: dict[str, str] = {}
    for i, m in enumerate(found):
        key = (m.group("a") or m.group("c")).casefold()
        field = _FIELD_BY_KEY[key]
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        value = text[m.end():end].strip(_TRIM)
        if field in fields:
            raise UsageError("customers.field_twice", field=m.group("a") or m.group("c"))
        if not value:
            raise UsageError("customers.field_empty", field=m.group("a") or m.group("c"))
        fields[field] = value
    return head.strip(_TRIM), fields


def _amount(value: str) -> float:
    try:
        a = parsing.parse_amount(value.replace(" ", ""))
    except UsageError:
        raise UsageError("customers.bad_amount", value=value) from None
    if a.percent or a.value <= 0 or a.value > MAX_AMOUNT:
        raise UsageError("customers.bad_amount", value=value)
    return a.value


def _owner(value: str) -> parsing.Mention | str | None:
    if value.casefold() in POOL_WORDS:
        return POOL
    m = parsing.parse_mention(value)
    if m is None:
        word = value.strip()
        if " " in word or not word:
            raise UsageError("customers.bad_owner", value=value)
        m = parsing.Mention(None, word, word)  # a member named without @: run() checks the name
    if not m.user_id and (m.name or "").casefold() in SELF_NAMES:
        return None
    return m


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UsageError("customers.name_required")
    if len(name) > MAX_NAME:
        raise UsageError("customers.name_too_long", max=MAX_NAME)
    if name.startswith(("@", "<@")):
        raise UsageError("customers.name_is_person", value=name)
    return name


def _field(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "")
    if len(value) > MAX_FIELD:
        raise UsageError("customers.field_too_long", field=name, max=MAX_FIELD)
    return value


#: Keys typed without = ('电话 138…'): asked about rather than kept as part of the name.
_BARE_KEYS = frozenset(k for k in _FIELD_BY_KEY if not k.isascii()) | {"phone", "tel", "mobile"}
_LOOSE_PHONE = re.compile(r"\+?[\d\-()]{7,}")


def _loose(name: str, fields: dict[str, str]) -> str:
    """'杭州云帆 13800001111': a phone number at the end of the name is the phone; '杭州云帆 电话 138…'
    (a key without =) is asked about."""
    words = name.split()
    for i, w in enumerate(words[1:-1] if len(words) > 2 else words[1:], start=1):
        if w.casefold() in _BARE_KEYS and i + 1 < len(words):
            raise UsageError("customers.key_needs_equals", field=w, value=words[i + 1])
    if len(words) > 1 and "phone" not in fields and _LOOSE_PHONE.fullmatch(words[-1]) \
            and sum(ch.isdigit() for ch in words[-1]) >= 7:
        cut = 2 if len(words) > 2 and re.fullmatch(r"\+?(?:00)?86", words[-2]) else 1
        fields["phone"] = " ".join(words[-cut:])
        return " ".join(words[:-cut])
    return name


def _parse_add(rest: str, ctx: Ctx) -> AddCustomer:
    name, fields = split_fields(rest)
    name = check_name(_loose(name, fields))
    phone = fields.get("phone")
    if phone is not None and not looks_like_phone(phone):
        raise UsageError("customers.bad_phone", value=phone)
    stage = "lead"
    if "stage" in fields:
        stage = stage_of(fields["stage"]) or _bad_stage(fields["stage"])
        if stage == "lost":
            raise UsageError("customers.add_lost")
    amount = _amount(fields["amount"]) if "amount" in fields else None
    owner = _owner(fields["owner"]) if "owner" in fields else None
    return AddCustomer(name=name, phone=phone, contact=_field(fields, "contact"), stage=stage, owner=owner,
                       source=_field(fields, "source"), amount=amount)


def _bad_stage(word: str):
    from commands.customers.stages import STAGE_WORDS

    guess = suggest.closest(word, [w for words in STAGE_WORDS.values() for w in words])
    raise UsageError("customers.bad_stage", value=word).suggesting(guess)


def _parse_list(rest: str, ctx: Ctx) -> ListCustomers:
    page, rest = paging.take_page(rest, "customers.example_list")
    mentions, leftover = parsing.take_mentions(rest)
    if len(mentions) > 1:
        raise UsageError("customers.one_person")
    scope, who, stage = "auto", None, None
    if mentions:
        m = mentions[0]
        if not m.user_id and (m.name or "").casefold() in SELF_NAMES:
            scope = "mine"
        else:
            scope, who = "user", m
    for word in leftover.replace("，", " ").replace(",", " ").split():
        sc = keyword(word, SCOPES)
        st = stage_of(word)
        if sc is not None and scope in ("auto",):
            scope = sc
        elif st is not None and stage is None:
            stage = st
        elif not mentions and scope == "auto" and len(leftover.split()) == 1:
            # A member named without @ ('/customer list 李雷'): run() checks the name against the team.
            scope, who = "user", parsing.Mention(None, word, word)
        else:
            guess = suggest.closest(word, [a for names in SCOPES.values() for a in names])
            raise UsageError("customers.bad_scope", value=word).suggesting(guess)
    return ListCustomers(scope, who, stage, page)


def take_ref(rest: str) -> tuple[Ref, str]:
    """The customer a command starts with: '#12 …', '12 …' or the first word ('云帆 …')."""
    rest = rest.strip()
    if not rest:
        raise UsageError("customers.customer_required")
    word, _, after = rest.partition(" ")
    m = _ID.fullmatch(word)
    if m is not None:
        return Ref(int(m.group(1)), word), after.strip()
    m = re.match(r"#(\d{1,18})", word)
    if m is not None:  # '#12改名' / '#12赢单'
        return Ref(int(m.group(1)), m.group(0)), (word[m.end():] + " " + after).strip()
    return Ref(None, word.strip(_TRIM)), after.strip()


def _parse_show(rest: str, ctx: Ctx) -> ShowCustomer:
    rest = rest.strip(_TRIM)
    if not rest:
        raise UsageError("customers.customer_required")
    m = _ID.fullmatch(rest)
    return ShowCustomer(Ref(int(m.group(1)), rest) if m else Ref(None, rest))


def _parse_stage(rest: str, ctx: Ctx) -> SetStage:
    body, fields = split_fields(rest)
    extra = set(fields) - {"amount", "stage"}
    if extra:
        raise UsageError("customers.field_not_here", field=sorted(extra)[0])
    words = body.split()
    # The stage is the last stage word with something before it: the customer comes first and may
    # hold spaces ('ACME Corp won'); after it the deal size or the reason.
    at = None
    if "stage" in fields:
        stage = stage_of(fields["stage"]) or _bad_stage(fields["stage"])
        ref_words, after = words, []
    else:
        for i in range(len(words) - 1, 0, -1):
            if stage_of(words[i]):
                at = i
                break
        if at is None:
            if len(words) >= 2:
                _bad_stage(words[-1] if len(words) == 2 else words[1])
            raise UsageError("customers.stage_required")
        stage = stage_of(words[at])
        ref_words, after = words[:at], words[at + 1:]
    ref, leftover = take_ref(" ".join(ref_words))
    if leftover:  # the customer was named with spaces
        ref = Ref(None, " ".join(ref_words))
    amount = _amount(fields["amount"]) if "amount" in fields else None
    if after and amount is None and parsing.is_amount(after[0]):  # '云帆 赢单 50万'
        amount, after = _amount(after[0]), after[1:]
    reason = " ".join(after).strip(_TRIM + ":")
    for w in _REASON_WORDS:
        if reason.casefold().startswith(w):
            reason = reason[len(w):].strip(_TRIM + ":=")
            break
    if stage == "lost" and not reason:
        raise UsageError("customers.lost_reason_required", example="customers.example_lost")
    if len(reason) > MAX_REASON:
        raise UsageError("customers.reason_too_long", max=MAX_REASON)
    return SetStage(ref, stage, amount, reason)


def _parse_rename(rest: str, ctx: Ctx) -> RenameCustomer:
    for sep in (" → ", " -> ", " to ", " 改为 ", " 改成 ", " 为 "):
        if sep in rest:
            old, _, new = rest.partition(sep)
            m = _ID.fullmatch(old.strip())
            ref = Ref(int(m.group(1)), old.strip()) if m else Ref(None, old.strip(_TRIM))
            if not ref.text:
                raise UsageError("customers.customer_required")
            return RenameCustomer(ref, check_name(new))
    ref, new = take_ref(rest)
    for prefix in ("改为", "改成", "为", "to"):
        if new.startswith(prefix + " ") or (not prefix.isascii() and new.startswith(prefix)):
            new = new[len(prefix):].strip()
            break
    return RenameCustomer(ref, check_name(new))


EDITABLE = ("phone", "contact", "source")
CLEAR_WORDS = frozenset({"none", "clear", "-", "无", "清空", "删除"})


def _parse_edit(rest: str, ctx: Ctx) -> EditCustomer:
    head, fields = split_fields(rest)
    head = head.strip(_TRIM)
    if not head:
        raise UsageError("customers.customer_required")
    if not fields:
        raise UsageError("customers.edit_what")
    other = sorted(set(fields) - set(EDITABLE))
    if other:
        raise UsageError(f"customers.edit_not_{other[0]}" if other[0] in ("stage", "owner", "amount")
                         else "customers.field_not_here", field=other[0])
    for name, value in fields.items():
        if name == "phone" and value.casefold() not in CLEAR_WORDS and not looks_like_phone(value):
            raise UsageError("customers.bad_phone", value=value)
        _field(fields, name)
    m = _ID.fullmatch(head)
    ref = Ref(int(m.group(1)), head) if m else Ref(None, head)
    return EditCustomer(ref, tuple(sorted(fields.items())))


def _parse_rules(rest: str, ctx: Ctx):
    """`/customer rules` is `/team rules` (commands/team_rules.py): the team's customer rules."""
    from commands import team_rules

    return team_rules.parse(rest, ctx.lang)


def _parse_claim(rest: str, ctx: Ctx) -> ClaimCustomer:
    rest = rest.strip(_TRIM)
    if not rest:
        raise UsageError("customers.customer_required")
    m = _ID.fullmatch(rest)
    return ClaimCustomer(Ref(int(m.group(1)), rest) if m else Ref(None, rest))


def _parse_release(rest: str, ctx: Ctx) -> ReleaseCustomer:
    ref, reason = take_ref(rest)
    reason = reason.strip(_TRIM + ":")
    for w in _REASON_WORDS:
        if reason.casefold().startswith(w):
            reason = reason[len(w):].strip(_TRIM + ":=")
            break
    if len(reason) > MAX_REASON:
        raise UsageError("customers.reason_too_long", max=MAX_REASON)
    return ReleaseCustomer(ref, reason)


def _parse_transfer(rest: str, ctx: Ctx) -> TransferCustomers:
    mentions, leftover = parsing.take_mentions(rest)
    words = [w for w in leftover.strip(_TRIM).split() if w.casefold() not in ("from", "to", "从", "给", "到", "→", "->")]
    if not words:
        raise UsageError("customers.transfer_what")
    ref: Ref | None
    if len(words) == 1 and words[0].casefold() in ALL_WORDS:
        ref = None
    else:
        text = " ".join(words)
        m = _ID.fullmatch(text)
        ref = Ref(int(m.group(1)), text) if m else Ref(None, text)
    if ref is None and len(mentions) != 2:
        raise UsageError("customers.transfer_two_people")
    if ref is not None and len(mentions) not in (1, 2):
        raise UsageError("customers.transfer_two_people")
    source = mentions[0] if len(mentions) == 2 else None
    return TransferCustomers(ref, source, mentions[-1])


_KINDS = {"add": _parse_add, "list": _parse_list, "show": _parse_show, "stage": _parse_stage,
          "rename": _parse_rename, "edit": _parse_edit, "rules": _parse_rules,
          "claim": _parse_claim, "release": _parse_release,
          "transfer": _parse_transfer}

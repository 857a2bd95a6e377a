"""The sales funnel's stages (销售漏斗), the ways to follow up, and the words people type for them."""
from __future__ import annotations

from commands.i18n import t

#: In funnel order; won and lost both end it.
STAGES = ("lead", "contacted", "qualified", "proposal", "negotiation", "won", "lost")
OPEN_STAGES = STAGES[:5]
CLOSED = frozenset({"won", "lost"})
RANK = {code: i for i, code in enumerate(STAGES)}

STAGE_WORDS: dict[str, tuple[str, ...]] = {
    "lead": ("lead", "leads", "线索", "潜在", "潜在客户"),
    "contacted": ("contacted", "contact", "初步接触", "接触", "已接触", "初次接触"),
    "qualified": ("qualified", "qualify", "需求确认", "确认需求", "需求已确认", "高质量"),
    "proposal": ("proposal", "quote", "quoted", "方案报价", "方案", "报价", "已报价"),
    "negotiation": ("negotiation", "negotiating", "negotiate", "商务谈判", "谈判", "议价"),
    "won": ("won", "win", "closed-won", "赢单", "成交", "签约", "已签约", "赢"),
    "lost": ("lost", "lose", "closed-lost", "输单", "丢单", "失败", "输"),
}
_STAGE_BY_WORD = {w.casefold(): code for code, words in STAGE_WORDS.items() for w in words}

#: How a follow-up was done.
HOWS: dict[str, tuple[str, ...]] = {
    "call": ("call", "phone", "电话", "打电话", "致电", "电联", "来电"),
    "visit": ("visit", "拜访", "上门", "面访", "走访", "登门"),
    "wechat": ("wechat", "weixin", "wx", "微信"),
    "email": ("email", "e-mail", "mail", "邮件", "电邮"),
    "meeting": ("meeting", "meet", "会议", "开会", "会面", "视频会议"),
}
_HOW_BY_WORD = {w.casefold(): code for code, words in HOWS.items() for w in words}


def stage_of(word: str) -> str | None:
    return _STAGE_BY_WORD.get((word or "").strip().casefold())


def how_of(word: str) -> str | None:
    return _HOW_BY_WORD.get((word or "").strip().casefold())


def stage_name(code: str, lang: str) -> str:
    return t(lang, f"customers.stage_{code}")


def how_name(code: str, lang: str) -> str:
    return t(lang, f"customers.how_{code}")


def stage_words(lang: str) -> str:
    """'线索、初步接触、…' / 'lead, contacted, …' for messages that list them."""
    if lang == "zh":
        return "、".join(f"{t(lang, f'customers.stage_{c}')}" for c in STAGES)
    return ", ".join(STAGES)


def how_words(lang: str) -> str:
    if lang == "zh":
        return "、".join(t(lang, f"customers.how_{c}") for c in HOWS)
    return ", ".join(HOWS)

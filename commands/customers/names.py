"""Normal forms for 查重 (duplicate check): two spellings of one company, or of one phone number,
get the same key. Pure functions; storage keeps the keys in customer.name_key / customer.phone_key,
UNIQUE per team.

    name_key("杭州云帆科技有限公司") == name_key("杭州 云帆科技") == name_key("ＡＣＭＥ（中国）") ...
    phone_key("+86 138-0000-1111") == phone_key("13800001111") == "13800001111"
"""
from __future__ import annotations

import re
import unicodedata

#: Legal-form words a company name is written with or without (longest first). Matched after NFKC
#: and casefold, so （中国） is (中国) and Ｌｔｄ is ltd.
_CN_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "(中国)", "股份", "集团")
_EN_FORMS = re.compile(r"(?:\b(?:co\.?,?\s*ltd|company\s+limited|limited|ltd|inc|corp|corporation|llc|gmbh)\.?\s*)+$")
#: What is left out of the key: white space, punctuation and symbols (A.C.M.E, 云帆·科技, 云帆-科技).
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def name_key(name: str) -> str:
    """The key two spellings of one company share: without 有限公司, 有限责任公司, 股份, 集团, (中国),
    English legal forms (Ltd, Inc, Co., Ltd.), spaces, punctuation, full-width forms and case."""
    folded = _fold(name).strip()
    key = folded
    for form in _CN_FORMS:
        key = key.replace(form, " ")
    key = _EN_FORMS.sub("", key.strip())
    key = _NOISE.sub("", key)
    if not key:  # the name is nothing but a legal form ("有限公司"): keep what was typed
        key = _NOISE.sub("", folded) or folded
    return key[:120]


def phone_key(phone: str | None) -> str | None:
    """Digits only, without the +86 / 0086 country prefix (a landline keeps its trunk 0:
    +86 571 8888 6666 and 0571-88886666 are one number). None when there are no digits."""
    if phone is None:
        return None
    folded = unicodedata.normalize("NFKC", phone).strip()
    digits = re.sub(r"\D", "", folded)
    if not digits:
        return None
    prefixed = False
    if folded.startswith("+86") or digits.startswith("0086"):
        digits = digits[4:] if digits.startswith("0086") else digits[2:]
        prefixed = True
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]  # 8613800001111: a mobile number with the country code run in
        prefixed = True
    if prefixed and digits and not digits.startswith(("0", "1")):
        digits = "0" + digits
    return digits[:40] or None


def looks_like_phone(phone: str) -> bool:
    """At least 5 digits, and nothing but digits, spaces, + - ( ) . and an extension mark."""
    folded = unicodedata.normalize("NFKC", phone).strip()
    return (len(re.sub(r"\D", "", folded)) >= 5
            and re.fullmatch(r"\+?[\d\s\-().]+(?:(?:转|ext\.?|x)\s*\d+)?", folded, re.IGNORECASE) is not None)

from __future__ import annotations

import string

from commands.i18n import catalog, normalize_lang, t


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_both_languages_have_the_same_keys_and_placeholders():
    zh, en = catalog("zh"), catalog("en")
    assert set(zh) ^ set(en) == set(), f"keys in one language only: {sorted(set(zh) ^ set(en))}"
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key


def test_every_route_has_help_and_example_in_both_languages():
    from commands.core import router
    for route in router.ROUTES:
        feature = route.module.rsplit(".", 1)[-1]
        for lang in ("zh", "en"):
            assert f"{feature}.help" in catalog(lang), (lang, feature)
            assert f"{feature}.example" in catalog(lang), (lang, feature)


def test_chinese_catalog_is_chinese():
    zh = catalog("zh")
    texts = [v for k, v in zh.items() if not k.endswith(("example", "example_remove", "example_undo"))
             and not k.startswith("roles.")]
    cjk = [v for v in texts if any("\u4e00" <= c <= "\u9fff" for c in v)]
    assert len(cjk) / len(texts) > 0.9


def test_missing_key_shows_the_key_not_a_crash():
    assert t("en", "nope.missing") == "nope.missing"


def test_normalize_lang():
    assert normalize_lang("zh-CN") == "zh" and normalize_lang("zh_TW") == "zh" and normalize_lang("中文") == "zh"
    assert normalize_lang("en-US") == "en" and normalize_lang("English") == "en"
    assert normalize_lang("fr-FR") is None and normalize_lang(None) is None

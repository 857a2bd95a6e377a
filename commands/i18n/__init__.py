"""zh and en message catalogs.

Each feature has one TOML file per language (`zh/progress.toml`, `en/progress.toml`); a key
`done` in `progress.toml` is looked up as `progress.done`. Placeholders use str.format syntax.
Both languages must have the same keys and placeholders (tests/commands/test_i18n.py checks).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    root = resources.files(__package__) / lang
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        feature = entry.name[: -len(".toml")]
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        _flatten(feature, data, out)
    return out


def _flatten(prefix: str, data: dict, out: dict[str, str]) -> None:
    for k, v in data.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            _flatten(key, v, out)
        else:
            out[key] = str(v)


def t(lang: str, key: str, /, **args) -> str:
    cat = catalog(lang if lang in LANGS else DEFAULT_LANG)
    template = cat.get(key)
    if template is None:
        # A missing key is a bug; show the key rather than crash a user's command.
        return key
    try:
        return template.format(**args)
    except (KeyError, IndexError, ValueError):
        return template


def has(lang: str, key: str) -> bool:
    return key in catalog(lang if lang in LANGS else DEFAULT_LANG)


def normalize_lang(value: str | None) -> str | None:
    """'zh-CN', 'zh_TW', '中文' -> 'zh'; 'en-US', 'English' -> 'en'; anything else -> None."""
    if not value:
        return None
    v = value.strip().lower().replace("_", "-")
    if v.startswith("zh") or v in {"中文", "汉语", "chinese", "cn"}:
        return "zh"
    if v.startswith("en") or v in {"英文", "英语", "english"}:
        return "en"
    return None

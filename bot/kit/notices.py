"""What an adapter says on its own (not a command's answer), from the catalogs (adapters.toml).

Where the person's language is known the notice is in it; where it cannot be known (a failure before
the core has read who is asking) it is in both languages, Chinese first."""
from __future__ import annotations

from commands.i18n import LANGS, t


def notice(key: str, lang: str | None = None, *, sep: str = "\n") -> str:
    """adapters.<key> in `lang`, or in both languages (joined by `sep`) when `lang` is None."""
    if lang in LANGS:
        return t(lang, f"adapters.{key}")
    return t("zh", f"adapters.{key}") + sep + t("en", f"adapters.{key}")


def text_only() -> str:
    """The answer to a picture, a voice note or a file: the bot only reads text."""
    return "🙂 " + notice("text_only")


def generic_error() -> str:
    """Shown when something failed below the core (the core has its own, localised, incident message)."""
    return "⚠️ " + notice("generic_error", sep=" / ")

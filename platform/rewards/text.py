"""Text in the three programme languages: zh-Hant (Hong Kong), zh-Hans and English.

A reward's name and description are ``{"zh-Hant": ..., "zh-Hans": ..., "en": ...}``; a
merchant often fills in only one Chinese variant, so the other is made with OpenCC
(Hong Kong Traditional <-> Simplified) rather than falling back to English.
"""

from __future__ import annotations

from collections.abc import Mapping

from loyalchat.bounds import InvalidCharacter, storable_text
from loyalchat.languages import LOCALES, to_simplified, to_traditional

DEFAULT_LOCALE = "zh-Hant"


def normalize_locale(locale: str | None) -> str:
    """One of :data:`LOCALES` for a tag such as ``zh-HK``, ``zh_CN``, ``en-GB`` or ``""``."""
    tag = (locale or "").replace("_", "-").lower()
    if not tag:
        return DEFAULT_LOCALE
    if tag.startswith("en"):
        return "en"
    if tag.startswith("zh"):
        if "hans" in tag or tag in ("zh-cn", "zh-sg", "zh"):
            return "zh-Hans"
        return "zh-Hant"
    return "en"


def clean(value: object) -> dict[str, str]:
    """A localized text as stored: the three languages, stripped; raises ``ValueError``.

    A plain string counts as the merchant's one language and is stored as zh-Hant when it
    holds CJK characters, else as English.
    """
    if isinstance(value, str):
        text = value.strip()
        value = {("zh-Hant" if _has_cjk(text) else "en"): text}
    if not isinstance(value, Mapping):
        raise ValueError("expected a text or {zh-Hant, zh-Hans, en}")
    unknown = sorted(set(value) - set(LOCALES))
    if unknown:
        raise ValueError(f"unknown language {', '.join(map(str, unknown))}")
    out: dict[str, str] = {}
    for locale in LOCALES:
        text = value.get(locale) or ""
        if not isinstance(text, str):
            raise ValueError(f"{locale}: expected a text")
        try:
            out[locale] = storable_text(text, locale, multiline=True).strip()
        except InvalidCharacter as exc:
            raise ValueError(exc.message) from None
    return out


def pick(texts: Mapping[str, str] | None, locale: str | None) -> str:
    """``texts`` in ``locale``, or the closest thing a reader of ``locale`` can read.

    zh-Hant falls back to zh-Hans converted (and the reverse), then English; English falls
    back to zh-Hant, then zh-Hans.
    """
    texts = texts or {}
    locale = normalize_locale(locale)
    hant, hans, en = (texts.get(key) or "" for key in LOCALES)
    if locale == "zh-Hant":
        return hant or (to_traditional(hans) if hans else en)
    if locale == "zh-Hans":
        return hans or (to_simplified(hant) if hant else en)
    return en or hant or hans


def in_script(text: str, locale: str | None) -> str:
    """Free text (a plugin option a merchant typed once) in the Chinese script of ``locale``."""
    locale = normalize_locale(locale)
    if locale == "zh-Hans":
        return to_simplified(text)
    if locale == "zh-Hant":
        return to_traditional(text)
    return text


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)

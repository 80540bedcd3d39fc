"""Shop texts in the three programme languages: zh-Hant (Hong Kong), zh-Hans and English.

Every text a merchant types for members or staff to read (a reward's name and
description, a coupon's benefit and terms, an earning rule's name) is
``{"zh-Hant": ..., "zh-Hans": ..., "en": ...}``. A merchant often fills in only one Chinese
variant, so :func:`clean` makes the other with OpenCC (Hong Kong Traditional <->
Simplified) when the text is stored, and :func:`pick` does the same for texts stored
before that, rather than falling back to English.

Below every domain (rewards, rules, later auto-replies and broadcasts): it imports only
:mod:`loyalchat.bounds` and :mod:`loyalchat.languages`. ``loyalchat.rewards.text`` re-exports it.
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


def clean(value: object, *, max_length: int | None = None) -> dict[str, str]:
    """A localized text as stored: the three languages, stripped, the missing Chinese
    script made from the other one; raises ``ValueError``.

    A plain string counts as the merchant's one language: Chinese (zh-Hans when it is in
    Simplified characters only, else zh-Hant) when it holds CJK characters, else English.
    ``max_length`` bounds each language.
    """
    if isinstance(value, str):
        text = value.strip()
        value = {language_of(text): text}
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
    out = filled(out)
    if max_length is not None:
        for locale, text in out.items():
            if len(text) > max_length:
                raise ValueError(f"{locale}: at most {max_length} characters")
    return out


def filled(texts: Mapping[str, str]) -> dict[str, str]:
    """``texts`` with an empty Chinese script made from the other one by OpenCC."""
    out = {locale: texts.get(locale) or "" for locale in LOCALES}
    if out["zh-Hant"] and not out["zh-Hans"]:
        out["zh-Hans"] = to_simplified(out["zh-Hant"])
    elif out["zh-Hans"] and not out["zh-Hant"]:
        out["zh-Hant"] = to_traditional(out["zh-Hans"])
    return out


def is_blank(texts: Mapping[str, str] | str | None) -> bool:
    """True when ``texts`` (localized, or a plain string stored before) says nothing."""
    if isinstance(texts, str):
        return not texts.strip()
    return not any((texts or {}).values())


def pick(texts: Mapping[str, str] | str | None, locale: str | None) -> str:
    """``texts`` in ``locale``, or the closest thing a reader of ``locale`` can read.

    zh-Hant falls back to zh-Hans converted (and the reverse), then English; English falls
    back to zh-Hant, then zh-Hans. A plain string (a coupon option or a rule name stored
    before texts had three languages) is shown as typed, in the reader's Chinese script.
    """
    if isinstance(texts, str):
        return in_script(texts, locale)
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


def language_of(text: str) -> str:
    """The language a text typed in one language is in: zh-Hant, zh-Hans or en."""
    if not _has_cjk(text):
        return "en"
    simplified_only = to_simplified(text) == text and to_traditional(text) != text
    return "zh-Hans" if simplified_only else "zh-Hant"


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)

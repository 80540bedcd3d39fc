"""A text in three languages on a form (the ``localized_field`` macro of ``_macros.html``).

A text named ``benefit`` is three inputs, ``benefit_zh_Hant``, ``benefit_zh_Hans`` and
``benefit_en``, plus a hidden ``<input>_was`` per Chinese script holding what the form
showed. The service fills an empty Chinese script from the other with OpenCC
(:func:`loyalchat.rewards.text.clean`), so a merchant who types Traditional Chinese only
finds the Simplified text filled on the next edit. When they then change the Traditional
text and leave that filled-in Simplified text as it was, it is made again from the new
text rather than kept stale; a Simplified text they typed themselves is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalchat.languages import to_simplified, to_traditional
from loyalchat.rewards import text

LANGUAGES = (("zh-Hant", "zh_Hant"), ("zh-Hans", "zh_Hans"), ("en", "en"))
_CONVERT = {"zh-Hant": to_traditional, "zh-Hans": to_simplified}
_OTHER = {"zh-Hant": "zh-Hans", "zh-Hans": "zh-Hant"}
_SUFFIX = dict(LANGUAGES)


def input_name(name: str, locale: str) -> str:
    """The form field of ``name`` in ``locale``: ``name_zh_Hant``."""
    return f"{name}_{_SUFFIX[locale]}"


def form_fields(name: str, texts: Mapping[str, str] | str | None) -> dict[str, str]:
    """The form's fields for a stored text (a plain string stored before counts as the
    one language it was typed in)."""
    if isinstance(texts, str):
        try:
            texts = text.clean(texts)
        except ValueError:
            texts = {"en": texts}
    texts = texts or {}
    fields = {input_name(name, locale): str(texts.get(locale) or "") for locale, _ in LANGUAGES}
    for locale in _CONVERT:
        fields[input_name(name, locale) + "_was"] = fields[input_name(name, locale)]
    return fields


def form_value(form: Mapping[str, Any], name: str) -> dict[str, str] | str:
    """The text typed for ``name``: ``{zh-Hant, zh-Hans, en}``, or the plain string of a
    form that posts one field ``name`` (a script, or a page older than this form)."""
    names = {locale: input_name(name, locale) for locale, _ in LANGUAGES}
    if not any(field in form for field in names.values()) and name in form:
        return str(form.get(name) or "")
    typed = {locale: str(form.get(field) or "").strip() for locale, field in names.items()}
    shown = {
        locale: str(form.get(names[locale] + "_was") or "").strip()
        for locale in _CONVERT
        if names[locale] + "_was" in form
    }
    if len(shown) == 2:
        for locale, convert in _CONVERT.items():
            other = _OTHER[locale]
            was_filled = shown[locale] == convert(shown[other])
            untouched = typed[locale] == shown[locale]
            if was_filled and untouched and typed[other] and typed[other] != shown[other]:
                typed[locale] = ""  # made again from the changed text
    return typed


def has_text(value: Mapping[str, str] | str) -> bool:
    """True when at least one language of ``value`` is filled in."""
    if isinstance(value, str):
        return bool(value.strip())
    return any(str(v).strip() for v in value.values())

"""How a plugin introduces itself to a shop: a title and what it does, in the reader's language.

A plugin module (or object) may set ``PLUGIN_INFO = PluginInfo(title=..., summary=...)``.
Each text is either an ``N_()`` string of the core catalogues (the built-in plugins) or a
mapping ``{"zh-Hant": ..., "zh-Hans": ..., "en": ...}`` (a third-party plugin with no
catalogue entries). A plugin that declares nothing is shown by its name, made readable
("stored_value" -> "Stored value"), and by what it registers (:func:`describe`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pluggy

from loyalchat import i18n
from loyalchat.i18n import N_

Text = str | Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A plugin's title and one or two sentences on what it does for the shop."""

    title: Text
    summary: Text = ""


@dataclass(frozen=True, slots=True)
class PluginText:
    """A plugin's title and summary in one language; ``declared`` is False for the fallback."""

    name: str
    title: str
    summary: str
    declared: bool


def declared_info(pm: pluggy.PluginManager, name: str) -> PluginInfo | None:
    """The ``PLUGIN_INFO`` the plugin ``name`` declares, or None."""
    info = getattr(pm.get_plugin(name), "PLUGIN_INFO", None)
    return info if isinstance(info, PluginInfo) else None


def localize(text: Text, locale: str) -> str:
    """``text`` in ``locale``: a mapping's entry (then English, then any), or the core
    catalogue's translation of a string (the string itself when the catalogue lacks it)."""
    if isinstance(text, Mapping):
        for key in (locale, "en"):
            if text.get(key):
                return str(text[key])
        return next((str(value) for value in text.values() if value), "")
    return i18n.translations(locale).gettext(text) if text else ""


def readable_name(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or name


def describe(pm: pluggy.PluginManager, name: str, locale: str) -> PluginText:
    """The plugin's title and summary in ``locale``, with the fallback for one that
    declares none."""
    info = declared_info(pm, name)
    if info is None:
        return PluginText(name, readable_name(name), "", declared=False)
    title = localize(info.title, locale) or readable_name(name)
    return PluginText(name, title, localize(info.summary, locale), declared=True)


# What each family is called on the plugin pages.
FAMILY_LABELS = {
    "channels": N_("Chat channel"),
    "ocr_engines": N_("OCR engine"),
    "receipt_parsers": N_("Receipt parser"),
    "receipt_checks": N_("Receipt check"),
    "reward_types": N_("Reward type"),
    "payment_providers": N_("Payment provider"),
}


def provides(pm: pluggy.PluginManager, locale: str) -> dict[str, list[str]]:
    """Plugin name -> what it registers, in ``locale`` ("Reward type: Coupon")."""
    from loyalchat.extensions.tenant_plugins import family_registries

    translate = i18n.translations(locale).gettext
    found: dict[str, list[str]] = {}
    for family, registry in family_registries(pm).items():
        for name, owner in registry.owners.items():
            label = getattr(registry[name], "label", "") or name
            item = translate("%(family)s: %(item)s") % {
                "family": translate(FAMILY_LABELS[family]),
                "item": translate(label) if isinstance(label, str) else name,
            }
            found.setdefault(owner, []).append(item)
    return found

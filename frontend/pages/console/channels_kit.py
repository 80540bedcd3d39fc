"""The Channels page's pieces beyond settings: the join QR kit and WeChat's custom menu.

**Join code.** A shop's join code is its slug (``alpha-tea``): unique across the platform,
stable, already public in its chat and wallet URLs, short enough for a WeChat scene
(1-64 characters) and typed by nobody (the QR prefills ``JOIN <code>`` or carries it as
the scene). Nothing new is stored; the bot accepts any code after ``JOIN``.

**Join link.** What the store QR encodes is the adapter's ``join_link(code, config)``:
WhatsApp's wa.me click-to-chat link, WeChat's permanent parametric QR url (an API call,
which WeChat may refuse: :class:`~loyalchat.extensions.channels.ChannelError`), the web
chat page. The console draws it as an SVG QR code (:func:`loyalchat.rewards.qr.link_svg`).

**WeChat menu.** WeChat keeps one custom menu per account; the console pushes three
buttons (send a receipt: ``pic_photo_or_album`` key ``RECEIPT``; my card: click ``CARD``;
rewards: click ``REWARDS``; the bot reads both clicks as the typed words). The titles are
edited in three languages and pushed in one of them. The console stores no copy of the
menu but the audit row of each successful push (``plugin.wechat_menu``), which prefills
the editor next time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loyalchat import i18n
from loyalchat.bounds import is_storable
from loyalchat.conversations.queueing import runtime_config
from loyalchat.extensions.channels import ChannelAdapter, ChannelError
from loyalchat.frontend.pages.common import localized
from loyalchat.i18n import N_
from loyalchat.languages import LOCALES
from loyalchat.rewards import qr
from loyalchat.tenants import audit
from loyalchat.tenants.service import TenantInfo
from loyalchat.texts import filled

MENU_ACTION = "plugin.wechat_menu"
MENU_CHANNEL = "wechat"
# The editor's buttons: form name -> (WeChat key, default title).
MENU_BUTTONS: dict[str, tuple[str, str]] = {
    "receipt": ("RECEIPT", N_("Send receipt")),
    "card": ("CARD", N_("My card")),
    "rewards": ("REWARDS", N_("Rewards")),
}
MENU_NAME_BYTES = 16  # WeChat refuses a top-level button name over 16 bytes (UTF-8)
TITLE_REQUIRED = N_("Give this button a title in every language.")
TITLE_UNREADABLE = N_("Check this value.")
TITLE_TOO_LONG = N_(
    "At most 16 bytes in WeChat: 5 Chinese characters or 16 letters (%(language)s)."
)

# The poster's texts, each printed in the shop's languages.
POSTER_TITLE = N_("Join our membership")
POSTER_STEPS = {
    "whatsapp": N_("Scan with your phone's camera: WhatsApp opens with a message ready. Send it."),
    "wechat": N_("Scan with WeChat and follow us."),
    "webchat": N_("Scan with your phone's camera to open our chat."),
}
POSTER_STEPS_OTHER = N_("Scan with your phone to open our chat.")
POSTER_AFTER = N_("Collect points with every purchase and redeem rewards in the chat.")


def join_code(tenant: TenantInfo) -> str:
    """The shop's join code: its slug (see the module's docstring)."""
    return tenant.slug


@dataclass(frozen=True, slots=True)
class JoinKit:
    """The join link and its QR code, or why there is none (``error``: a ChannelError's)."""

    code: str
    link: str = ""
    svg: str = ""
    error: str = ""
    error_code: str = ""

    @property
    def data_uri(self) -> str:
        """The QR code as an ``<img src>`` (the CSP allows data: images)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


async def join_kit(adapter: ChannelAdapter, tenant: TenantInfo) -> JoinKit:
    """Ask the adapter for the link a store QR encodes (an API call for WeChat)."""
    code = join_code(tenant)
    try:
        config = await runtime_config(adapter.kind)
        link = await adapter.join_link(code, config)
    except ChannelError as exc:
        return JoinKit(code, error=str(exc), error_code=exc.code or exc.reason)
    return JoinKit(code, link=link, svg=qr.link_svg(link, border=2))


def poster_texts(kind: str, locales: list[str]) -> list[dict[str, str]]:
    """The poster's title, how to scan and what members get, in each of ``locales``."""
    step = POSTER_STEPS.get(kind, POSTER_STEPS_OTHER)
    out = []
    for locale in locales:
        catalogue = i18n.translations(locale)
        out.append(
            {
                "locale": locale,
                "title": catalogue.gettext(POSTER_TITLE),
                "step": catalogue.gettext(step),
                "after": catalogue.gettext(POSTER_AFTER),
            }
        )
    return out


def poster_locales(shop_locale: str, only: str = "") -> list[str]:
    """``only`` when it is one of the three languages, else all three, the shop's first."""
    if only in LOCALES:
        return [only]
    first = shop_locale if shop_locale in LOCALES else LOCALES[0]
    return [first, *(locale for locale in LOCALES if locale != first)]


# -- WeChat menu -------------------------------------------------------------------------


def default_titles() -> dict[str, dict[str, str]]:
    """Each button's default title in the three languages (from the catalogues)."""
    return {
        name: {locale: i18n.translations(locale).gettext(title) for locale in LOCALES}
        for name, (_key, title) in MENU_BUTTONS.items()
    }


async def last_pushed() -> tuple[dict[str, dict[str, str]], str]:
    """The titles and language of the last menu pushed (the audit row), else defaults."""
    titles, locale = default_titles(), ""
    for row in await audit.entries("plugins", limit=200):
        if row["action"] != MENU_ACTION:
            continue
        after = row["after"]
        if isinstance(after, str):  # a driver that hands JSON back as text
            after = json.loads(after or "{}")
        after = after if isinstance(after, Mapping) else {}
        for name in MENU_BUTTONS:
            for loc in LOCALES:
                value = after.get(localized.input_name(name, loc))
                if isinstance(value, str) and value:
                    titles[name][loc] = value
        locale = str(after.get("locale") or "")
        break
    return titles, locale


def menu_form(titles: Mapping[str, Mapping[str, str]], locale: str) -> dict[str, str]:
    """The editor's form values for ``titles`` (localized_field inputs) and ``locale``."""
    form: dict[str, str] = {"locale": locale}
    for name in MENU_BUTTONS:
        form.update(localized.form_fields(name, dict(titles.get(name) or {})))
    return form


def read_menu(
    form: Mapping[str, Any],
) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, dict[str, str]]]]:
    """The titles typed (the other Chinese script made when one is empty) and the problems:
    button name -> (``N_()`` message, its variables)."""
    titles: dict[str, dict[str, str]] = {}
    errors: dict[str, tuple[str, dict[str, str]]] = {}
    for name in MENU_BUTTONS:
        value = localized.form_value(form, name)
        typed = value if isinstance(value, dict) else {"en": value}
        texts = filled({loc: " ".join(str(typed.get(loc) or "").split()) for loc in LOCALES})
        titles[name] = texts
        if not all(texts.values()):
            errors[name] = (TITLE_REQUIRED, {})
            continue
        if not all(is_storable(text) for text in texts.values()):
            errors[name] = (TITLE_UNREADABLE, {})
            continue
        for loc in LOCALES:
            if len(texts[loc].encode()) > MENU_NAME_BYTES:
                errors[name] = (TITLE_TOO_LONG, {"language": i18n.LANGUAGE_NAMES[loc]})
                break
    return titles, errors


async def push_menu(titles: Mapping[str, Mapping[str, str]], locale: str) -> None:
    """Push the three buttons in ``locale`` to the shop's WeChat account, then note it in
    the audit log; raises :class:`ChannelError` when WeChat refuses (nothing noted)."""
    # The menu is the WeChat plugin's own API call: no adapter method declares it.
    from loyalchat.plugins.wechat import MenuEntry
    from loyalchat.plugins.wechat import push_menu as wechat_push_menu

    config = await runtime_config(MENU_CHANNEL)
    entries = [MenuEntry(key, titles[name][locale]) for name, (key, _t) in MENU_BUTTONS.items()]
    await wechat_push_menu(config, entries)
    after: dict[str, Any] = {"locale": locale}
    for name in MENU_BUTTONS:
        for loc in LOCALES:
            after[localized.input_name(name, loc)] = titles[name][loc]
    await audit.record(MENU_ACTION, f"plugin:{MENU_CHANNEL}", after=after)

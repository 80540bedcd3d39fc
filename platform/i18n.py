"""Interface languages: translations, the language of a request, and dates in it.

The one home of locale handling for the whole programme: the JSON API's errors
(``api_errors``), the HTML pages (``loyalchat.frontend``, which binds these to Jinja) and
plugins' labels all translate through :func:`translations` and mark strings with :func:`N_`.
The languages themselves and Chinese script conversion are in :mod:`loyalchat.languages`.

Catalogues are the committed ``locale/<babel id>/LC_MESSAGES/messages.po`` files next to
this module (``platform/locale/``), compiled in memory on first use (no ``.mo`` is
committed). The language of a request is, in order: the signed-in user's (or the wallet's
member's) preference, the ``lc_lang`` cookie set by the language switcher, the browser's
``Accept-Language``, the shop's language (wallet), and English (:func:`choose`).

Extract and update the catalogues after changing UI strings (from ``frontend/``, where
``babel.cfg`` lives; strings marked in ``platform/`` and ``plugins/`` are extracted too)::

    ../.venv/bin/pybabel extract -F babel.cfg -k N_ -o ../platform/locale/messages.pot \
        --no-location --sort-output . ../platform ../plugins
    ../.venv/bin/pybabel update -i ../platform/locale/messages.pot -d ../platform/locale \
        --no-fuzzy-matching
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_date_format, get_datetime_format, get_time_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from litestar.connection import ASGIConnection

from loyalchat.languages import LOCALES
from loyalchat.tenants.auth import principal_of

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "en"
COOKIE = "lc_lang"
# What the language switcher shows: each language in its own script.
LANGUAGE_NAMES = {"zh-Hant": "繁體中文", "zh-Hans": "简体中文", "en": "English"}
_BABEL_IDS = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans", "en": "en"}
_TRADITIONAL_REGIONS = {"hk", "tw", "mo"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated when shown."""
    return message


# Strings shown by other packages' code (error pages, guards) that the UI translates.
EXTERNAL_MESSAGES = (
    N_("Bad request"),
    N_("Please sign in"),
    N_("Not allowed"),
    N_("Not found"),
    N_("Method not allowed"),
    N_("Conflict"),
    N_("Too large"),
    N_("Unsupported file type"),
    N_("Please check the form"),
    N_("Too many attempts"),
    N_("Something went wrong"),
    N_("Error"),
    N_("There is nothing at this address."),
    N_("We have been told. Please try again."),
    N_("sign in first"),
    N_("platform administrators only"),
    N_("you are not staff of any shop yet"),
    N_("needs the cashier role"),
    N_("needs the manager role"),
    N_("needs the owner role"),
    N_("CSRF token verification failed"),
)


@functools.cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalogue for one of :data:`LOCALES` (cached per process)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    po_path = LOCALE_DIR / _BABEL_IDS[locale] / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=_BABEL_IDS[locale])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def say(locale: str, message: str, **variables: Any) -> str:
    """``message`` translated into ``locale`` (zh-Hant, zh-Hans, en; anything else: en),
    placeholders filled: what a person is told outside a request (the bot, a receipt)."""
    text = translations(locale if locale in LOCALES else "en").gettext(message)
    return text % variables if variables else text


def _map_tag(tag: str) -> str:
    """Map a browser language tag onto our locale codes where Chinese script matters."""
    parts = tag.strip().lower().replace("_", "-").split("-")
    if parts[0] != "zh":
        return tag.strip()
    if "hant" in parts or _TRADITIONAL_REGIONS & set(parts[1:]):
        return "zh-Hant"
    return "zh-Hans"  # zh, zh-CN, zh-SG, zh-Hans...


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def browser_locale(header: str | None) -> str | None:
    """The best of :data:`LOCALES` for an Accept-Language header; None when none fits."""
    if not header:
        return None
    preferred = [_map_tag(tag) for tag in parse_accept_language(header)]
    return negotiate_locale(preferred, LOCALES, sep="-")


def negotiate(header: str | None) -> str:
    """The best of :data:`LOCALES` for an Accept-Language header; English when none fits."""
    return browser_locale(header) or DEFAULT_LOCALE


def valid(code: str | None) -> str | None:
    """``code`` if it is one of :data:`LOCALES`, else None."""
    return code if code in LOCALES else None


def locale_of(connection: ASGIConnection | None) -> str:
    """The interface language of this request (computed once, kept in the scope state)."""
    if connection is None:
        return DEFAULT_LOCALE
    state = connection.scope.setdefault("state", {})
    if cached := state.get("locale"):
        return cached
    user = principal_of(connection).user
    locale = choose(connection, user.locale if user else None)
    state["locale"] = locale
    return locale


def choose(connection: ASGIConnection, preference: str | None, fallback: str | None = None) -> str:
    """The language for a reader: their stored ``preference``, else the switcher's cookie,
    else the browser's ``Accept-Language``, else ``fallback`` (e.g. the shop's), else English.

    The one negotiation of the programme: the console (:func:`locale_of`) and the member
    wallet (member's choice, browser, shop) both decide through it.
    """
    return (
        valid(preference)
        or valid(connection.cookies.get(COOKIE))
        or browser_locale(connection.headers.get("accept-language"))
        or valid(fallback)
        or DEFAULT_LOCALE
    )


def gettext(connection: ASGIConnection | None, message: str, **variables: Any) -> str:
    """Translate ``message`` for this request, then fill ``%(name)s`` placeholders."""
    text = translations(locale_of(connection)).gettext(message)
    return text % variables if variables else text


def babel_locale(locale: str) -> Locale:
    """Babel's locale for one of :data:`LOCALES` (English for anything else)."""
    return Locale.parse(_BABEL_IDS.get(locale, "en"))


@functools.cache
def _datetime_pattern(locale: str) -> str:
    """Babel's ``medium`` date with its ``short`` time: to the minute, no seconds."""
    babel = babel_locale(locale)
    glue = str(get_datetime_format("medium", locale=babel))
    date_pattern = get_date_format("medium", locale=babel).pattern
    return glue.replace("{1}", date_pattern).replace("{0}", get_time_format("short", babel).pattern)


def format_datetime(value: Any, locale: str, timezone: str = "Asia/Hong_Kong") -> str:
    """A moment as a ``medium`` date and ``short`` time (``Dec 4, 2026, 12:52 AM``,
    ``2026年12月4日 凌晨12:51``) in ``locale`` and ``timezone``; "" for None."""
    if value is None:
        return ""
    try:
        return babel_format_datetime(
            value, _datetime_pattern(locale), tzinfo=zone(timezone), locale=babel_locale(locale)
        )
    except OverflowError:
        # A moment at the calendar's edge (PostgreSQL's infinity, read as datetime.max)
        # cannot move to the shop's time zone: show its date as stored.
        return value.date().isoformat()


@functools.cache
def zone(name: str) -> Any:
    """The time zone ``name``, or Hong Kong's when the name is unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Hong_Kong")

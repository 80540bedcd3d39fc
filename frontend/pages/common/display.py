"""How the loyalty pages show things: money, points, dates, reward texts and service errors.

Page controllers put a :class:`Display` in the template context as ``fmt`` (the Jinja
environment is shared, so these live here rather than as global filters). Service errors
arrive with a stable ``code`` and an English message; :func:`error_message` turns the
code into words in the request's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date, get_day_names
from babel.numbers import format_currency, format_decimal
from litestar.connection import ASGIConnection

from loyalchat import api_errors, i18n
from loyalchat.domain import DomainError
from loyalchat.i18n import N_
from loyalchat.rewards import codes
from loyalchat.rewards import text as reward_text
from loyalchat.tenants.auth import principal_of

# Where the console says more than the API's message for a code (loyalchat.api_errors
# has one message per code for everything else).
ERROR_MESSAGES = {
    "reason_required": N_("Say why: the member's history shows it."),
    "idempotency_conflict": N_("This receipt number was already used for another member."),
    "invalid_key": N_("The form has expired. Reload the page and try again."),
    "invalid_phone": N_("Not a valid phone number. Include the country code, e.g. +852."),
    "invalid_email": N_("Not a valid e-mail address."),
    "invalid_birthday": N_("A birthday is a date in the past, like 1990-05-31."),
    "invalid_birthday.too_early": N_("A birthday cannot be before 1900."),
    "invalid_tags": N_("Tags are short words separated by commas (at most 20)."),
    "invalid_rule": N_("Check the rule: %(detail)s"),
    "invalid_policy": N_("Check the points policy: %(detail)s"),
    "invalid_number_format": N_(
        "A member number is letters, digits, '-', '_' or '.' around the running number, "
        "at most 32 characters."
    ),
}
OTHER_ERROR = N_("That did not work: %(detail)s")

# Ledger entry kinds as the history shows them.
ENTRY_KINDS = {
    "earn": N_("Earned"),
    "redeem": N_("Redeemed"),
    "adjust": N_("Adjusted"),
    "expire": N_("Expired"),
    "reverse": N_("Reversed"),
}
VALUE_KINDS = {
    "topup": N_("Top-up"),
    "spend": N_("Spent"),
    "grant": N_("Reward"),
    "reverse": N_("Reversed"),
    "adjust": N_("Adjusted"),
}
GRANT_STATUSES = {
    "issued": N_("Issued"),
    "used": N_("Used"),
    "expired": N_("Expired"),
    "void": N_("Cancelled"),
}


def error_message(connection: ASGIConnection, exc: DomainError) -> str:
    """The service error in the request's language (details filled from ``exc.extra``)."""
    message = api_errors.template_for(exc.code, exc.extra, ERROR_MESSAGES)
    if message is not None:
        return i18n.gettext(connection, message, detail=exc.message)
    text = api_errors.message_for(connection, exc.code, exc.message, exc.extra)
    return text or i18n.gettext(connection, OTHER_ERROR, detail=exc.message)


def field_of(exc: DomainError) -> str:
    """The form field a service error is about ("" when it is about the whole form)."""
    return str((exc.extra or {}).get("field") or "")


@dataclass(frozen=True)
class Display:
    """Formatting in one request's language, tenant currency and time zone."""

    locale: str
    currency: str
    timezone: str

    @property
    def _babel(self) -> Locale:
        return i18n.babel_locale(self.locale)

    def money(self, amount: Decimal | int | str | None) -> str:
        """``HK$1,234.50`` (Decimal throughout, never float)."""
        value = Decimal(str(amount if amount is not None else 0))
        return format_currency(value, self.currency, locale=self._babel)

    def points(self, points: int | None) -> str:
        return format_decimal(int(points or 0), locale=self._babel)

    def signed(self, points: int) -> str:
        """Points with a sign: ``+120``, ``-50``."""
        return ("+" if points > 0 else "") + self.points(points)

    def when(self, value: datetime | str | None) -> str:
        """A moment in the tenant's time zone, or "" for none."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return i18n.format_datetime(value, self.locale, self.timezone)

    def day(self, value: date | None) -> str:
        if value is None:
            return ""
        return format_date(value, format="medium", locale=self._babel)

    def local_day(self, value: datetime | None) -> str:
        """The day of a moment, in the tenant's time zone."""
        if value is None:
            return ""
        return self.day(value.astimezone(i18n.zone(self.timezone)).date())

    def weekday_names(self) -> dict[int, str]:
        """ISO weekday (1 = Monday) -> its short name in this language."""
        names = get_day_names("abbreviated", locale=self._babel)
        return {day + 1: names[day] for day in range(7)}

    def short_day(self, value: date) -> str:
        """A chart label: ``5/3`` style month/day."""
        return f"{value.month}/{value.day}"

    def code(self, code: str | None) -> str:
        """A coupon code as members and cashiers read it everywhere: ``927H-RSAD``."""
        return codes.display(code) if code else ""

    def text(self, texts: Mapping[str, str] | str | None) -> str:
        """A reward's name or description in this language (falling back sensibly)."""
        if isinstance(texts, str):
            return texts
        return reward_text.pick(texts or {}, self.locale)


def display_for(connection: ASGIConnection) -> Display:
    """The :class:`Display` for this request (cached in the scope state)."""
    state = connection.scope.setdefault("state", {})
    if (cached := state.get("loyalty_display")) is not None:
        return cached
    tenant = principal_of(connection).tenant
    display = Display(
        locale=i18n.locale_of(connection),
        currency=tenant.currency if tenant else "HKD",
        timezone=tenant.timezone if tenant else "Asia/Hong_Kong",
    )
    state["loyalty_display"] = display
    return display


def base_context(connection: ASGIConnection, **context: Any) -> dict[str, Any]:
    """What every loyalty page template gets: ``fmt`` and the label tables."""
    return {
        "fmt": display_for(connection),
        "ENTRY_KINDS": ENTRY_KINDS,
        "VALUE_KINDS": VALUE_KINDS,
        "GRANT_STATUSES": GRANT_STATUSES,
        **context,
    }

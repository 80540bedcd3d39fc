"""Reading the loyalty pages' form fields: amounts, whole numbers, dates, form tokens.

Each reader returns the value or raises :class:`FieldError` with the field's name and a
message (marked for translation), so a page can show the problem next to the field.
Money is read as ``Decimal``, never float.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.connection import ASGIConnection

from loyalchat import i18n
from loyalchat.bounds import INT32_MAX, INT32_MIN, in_date_range
from loyalchat.frontend.ui import is_form
from loyalchat.i18n import N_

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_GROUPING = re.compile(r"[,\s\u00a0，]")
TAG_SEPARATORS = re.compile(r"[,，、;；]")
# ASCII digits only (re.ASCII: ``\d`` alone matches full-width and other scripts' digits).
_WHOLE = re.compile(r"[+-]?\d{1,12}", re.ASCII)
# Money: at most twelve digits before the point, as Numeric(14, 2) holds.
_AMOUNT = re.compile(r"(\d{1,12}(\.\d*)?|\.\d+)", re.ASCII)
REQUIRED = N_("Fill this in.")
_DECIMAL = re.compile(r"[+-]?(\d{1,12}(\.\d*)?|\.\d+)", re.ASCII)


class FieldError(ValueError):
    """A form field that cannot be read; ``message`` is an ``N_()`` string."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class FormErrors(FieldError):
    """Every problem found on one form, field -> ``N_()`` message, in the form's order.

    A :class:`FieldError` (its first problem), so code catching one still works; pages show
    all of them at once with :func:`messages` and the ``error_summary`` macro.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = dict(errors)


class Collect:
    """Read every field of a form, keeping each problem rather than stopping at the first.

    ``value = check(ff.whole, form, "stock")`` is the reader's value, or None when it
    raised :class:`FieldError` (kept in ``errors``); ``check.done()`` raises
    :class:`FormErrors` with all of them when any.
    """

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def __call__(self, reader: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return reader(*args, **kwargs)
        except FormErrors as exc:
            for field, message in exc.errors.items():
                self.errors.setdefault(field, message)
        except FieldError as exc:
            self.errors.setdefault(exc.field, exc.message)
        return None

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def done(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def messages(connection: ASGIConnection, exc: FieldError) -> dict[str, str]:
    """Field -> message in the request's language, for one problem or a whole form's."""
    found = exc.errors if isinstance(exc, FormErrors) else {exc.field: exc.message}
    return {field: i18n.gettext(connection, message) for field, message in found.items()}


def new_token() -> str:
    """A fresh form token: the idempotency key of what the form does, so a double
    click or a resubmitted form is recorded once."""
    return secrets.token_urlsafe(18)


def token(form: dict[str, str], name: str = "token") -> str:
    value = form.get(name, "")
    if not TOKEN.fullmatch(value):
        raise FieldError(name, N_("The form has expired. Reload the page and try again."))
    return value


def create_key(form: dict[str, str], what: str) -> str | None:
    """The idempotency key of a "create" form (``<what>:<token>``), so a form sent twice
    creates once; None for a form without a token (a page from before tokens)."""
    value = form.get("token", "")
    return f"{what}:{value}" if TOKEN.fullmatch(value) else None


def amount(form: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
    """A sum of money as typed ("1,000.50", "HK$ 80"): positive, two decimals at most."""
    raw = _GROUPING.sub("", form.get(name, "")).lstrip("$").strip()
    # A currency before the number ("HKD80"), only before a digit: "NaN" and "inf" are
    # not a currency with no amount after it, but a typo to show.
    raw = re.sub(r"^[A-Z]{0,3}\$?(?=[0-9.])", "", raw, flags=re.IGNORECASE)
    if not raw:
        if required:
            raise FieldError(name, N_("Enter an amount."))
        return None
    if not _AMOUNT.fullmatch(raw):  # Decimal() would read "１００" and "1e9" too
        raise FieldError(name, N_("Enter an amount such as 120.50."))
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(name, N_("Enter an amount such as 120.50.")) from None
    if not value.is_finite() or value < 0:
        raise FieldError(name, N_("Enter an amount such as 120.50."))
    if value != value.quantize(Decimal("0.01")):
        raise FieldError(name, N_("At most two decimal places."))
    return value


def decimal(form: dict[str, str], name: str, *, required: bool = False) -> Decimal | None:
    """A plain decimal number (a ratio, a multiplier); None when blank and optional."""
    raw = _GROUPING.sub("", form.get(name, ""))
    if not raw:
        if required:
            raise FieldError(name, N_("Fill this in."))
        return None
    if not _DECIMAL.fullmatch(raw):
        raise FieldError(name, N_("Enter a number."))
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(name, N_("Enter a number.")) from None
    if not value.is_finite():
        raise FieldError(name, N_("Enter a number."))
    return value


def whole(
    form: dict[str, str],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    maximum: int = INT32_MAX,
) -> int | None:
    """A whole number (a sign allowed) that fits an ``integer`` column; None when blank.

    ASCII digits only: ``int()`` would read full-width "１００" too, which no one means
    as a number here.
    """
    raw = _GROUPING.sub("", form.get(name, ""))
    if not raw:
        if required:
            raise FieldError(name, N_("Fill this in."))
        return None
    if not _WHOLE.fullmatch(raw):
        raise FieldError(name, N_("Enter a whole number."))
    value = int(raw)
    if value < (INT32_MIN if minimum is None else minimum):
        raise FieldError(name, N_("Too small."))
    if value > maximum:
        raise FieldError(name, N_("Too large."))
    return value


def day(form: dict[str, str], name: str) -> date | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, N_("Enter a date like 2025-12-31.")) from None


def moment(form: dict[str, str], name: str, timezone: str) -> datetime | None:
    """A ``datetime-local`` field, read in the shop's time zone."""
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, N_("Enter a date and time.")) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


def in_window(name: str, value: date | None) -> date | None:
    """``value`` when it is a date (or moment) in the range reward windows and rules keep
    to (:data:`loyalchat.bounds.EARLIEST_DATE` ..), else :class:`FieldError`."""
    if value is not None and not in_date_range(value):
        raise FieldError(name, N_("Enter a date from the year 2000 to 2999."))
    return value


def checked(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") in ("1", "on", "true", "yes")


def tags(form: dict[str, str], name: str = "tags") -> list[str]:
    """Tags typed as "vip, 常客、birthday" -> ["vip", "常客", "birthday"]."""
    return [part.strip() for part in TAG_SEPARATORS.split(form.get(name, "")) if part.strip()]


async def form_lists(request: Request) -> dict[str, list[str]]:
    """Every value of every field (check boxes sharing a name), for multi-value fields."""
    if not await is_form(request):
        return {}
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key in form.keys():
        out[key] = [value for value in form.getall(key) if isinstance(value, str)]
    return out

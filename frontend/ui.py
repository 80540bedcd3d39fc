"""Small helpers shared by page controllers: flash messages, safe redirects, form input."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException

from loyalchat import i18n
from loyalchat.i18n import N_
from loyalchat.tenants.tables import Role, TenantStatus

FLASH_KEY = "_flash"
FLASH_LEVELS = ("success", "info", "warning", "error")

# Display names of enum values; templates translate them with _().
ROLE_LABELS = {
    Role.cashier.value: N_("Cashier"),
    Role.manager.value: N_("Manager"),
    Role.owner.value: N_("Owner"),
}
STATUS_LABELS = {
    TenantStatus.applying.value: N_("Applying"),
    TenantStatus.pending_review.value: N_("Waiting for review"),
    TenantStatus.active.value: N_("Active"),
    TenantStatus.rejected.value: N_("Rejected"),
    TenantStatus.suspended.value: N_("Suspended"),
}


def flash(request: ASGIConnection, message: str, level: str = "info", **variables: Any) -> None:
    """Queue a message for the next page (translated now, in the request's language)."""
    assert level in FLASH_LEVELS
    text = i18n.gettext(request, message, **variables)
    request.session.setdefault(FLASH_KEY, []).append({"level": level, "text": text})


def pop_flashes(request: ASGIConnection) -> list[dict[str, str]]:
    if "session" not in request.scope or not isinstance(request.scope["session"], dict):
        return []
    return request.scope["session"].pop(FLASH_KEY, [])


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site (no scheme, host or backslash), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOT_A_FORM = N_("This page takes a form sent from its own page. Reload it and try again.")


async def is_form(request: Request) -> bool:
    """Whether the request carries a form: False when it has no body at all, 400 when it
    has a body of another kind (JSON...), which a page must not read as an empty form."""
    if request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
        return True
    if not await request.body():
        return False
    raise ClientException(detail=NOT_A_FORM)


async def form_data(request: Request) -> dict[str, str]:
    """The submitted form as plain strings (the last value wins); {} when there is no body,
    400 for a body that is not a form (:func:`is_form`)."""
    if not await is_form(request):
        return {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}

"""Who a web chat visitor is: a device id, signed so that only this app can hand one out.

A visitor has no phone number or chat account: the first visit to ``/t/<slug>/chat``
makes a random device id, and the page and the device cookie carry it signed with the
app's secret (itsdangerous, as the wallet links are: :mod:`loyalchat.members.links`) over
``[tenant id, device id]``. The signature binds a device to ONE shop, so a token for shop
A is refused by shop B. A photo's upload ticket binds a stored picture to the device that
uploaded it, so a message can only send a picture its own device uploaded.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, NamedTuple

from itsdangerous import BadSignature, URLSafeTimedSerializer

from loyalchat.settings import Settings, get_settings

DEVICE_SALT = "webchat-device"
UPLOAD_SALT = "webchat-upload"
COOKIE = "lc_chat"
TOKEN_HEADER = "x-webchat-token"  # noqa: S105 - a header name, not a secret
# Browsers keep a cookie at most 400 days; each visit re-signs it, so a regular stays.
DEVICE_MAX_AGE = 400 * 24 * 3600
UPLOAD_MAX_AGE = 3600  # a photo is sent right after it is uploaded
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_TOKEN = 400  # longer than any token we sign: refused before verifying


class DeviceClaim(NamedTuple):
    tenant_id: int
    device_id: str


def _serializer(salt: str, settings: Settings | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer((settings or get_settings()).secret(), salt=salt)


def new_device_id() -> str:
    return secrets.token_urlsafe(18)


def sign_device(tenant_id: int, device_id: str) -> str:
    """The device token: the page's header and the cookie's value."""
    return _serializer(DEVICE_SALT).dumps([int(tenant_id), device_id])


def _loads(salt: str, token: str, max_age: int) -> Any:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    try:
        return _serializer(salt).loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        return None


def read_device(token: str | None, tenant_id: int) -> DeviceClaim | None:
    """The claim of a genuine, unexpired device token of ``tenant_id``; else None."""
    payload = _loads(DEVICE_SALT, token or "", DEVICE_MAX_AGE)
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and type(payload[0]) is int
        and payload[0] == tenant_id
        and isinstance(payload[1], str)
        and DEVICE_ID.fullmatch(payload[1])
    ):
        return DeviceClaim(payload[0], payload[1])
    return None


def sign_upload(tenant_id: int, device_id: str, media_key: str) -> str:
    """The ticket the page sends with a photo it uploaded: this picture, this device."""
    return _serializer(UPLOAD_SALT).dumps([int(tenant_id), device_id, media_key])


def read_upload(ticket: str, claim: DeviceClaim) -> str | None:
    """The media key of an upload ticket made for this device, or None."""
    payload = _loads(UPLOAD_SALT, ticket, UPLOAD_MAX_AGE)
    if (
        isinstance(payload, list)
        and len(payload) == 3
        and payload[0] == claim.tenant_id
        and payload[1] == claim.device_id
        and isinstance(payload[2], str)
    ):
        return payload[2]
    return None

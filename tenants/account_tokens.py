"""Signed, expiring tokens for the links staff get by e-mail.

Each kind has its own itsdangerous salt (a token of one kind is never valid as another)
and lifetime, keyed from the app secret like the member wallet links
(:mod:`loyalchat.members.links`):

- e-mail verification: the user id and the address verified (48 hours);
- password reset: the user id and a keyed fingerprint of the current password hash, so
  a reset (or any password change) spends every earlier link (1 hour);
- staff invitation: the invitation id and its nonce; the row decides "once" (7 days).

A signed-in session holds :func:`session_stamp` of the password hash it was opened with
(:mod:`loyalchat.tenants.sessions`): a new password ends every earlier session.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from loyalchat.settings import get_settings

VERIFY_EMAIL = "staff-verify-email"
PASSWORD_RESET = "staff-password-reset"  # noqa: S105 (a salt name, not a password)
STAFF_INVITE = "staff-invitation"
MAX_AGE = {
    VERIFY_EMAIL: 48 * 60 * 60,
    PASSWORD_RESET: 60 * 60,
    STAFF_INVITE: 7 * 24 * 60 * 60,
}
MAX_TOKEN_LENGTH = 512  # ours are ~100 characters; anything far longer is not ours


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret(), salt=salt)


def make(kind: str, payload: dict[str, Any]) -> str:
    """A URL-safe token of ``kind`` carrying ``payload`` (small JSON values)."""
    if kind not in MAX_AGE:
        raise ValueError(f"unknown token kind {kind!r}")
    return _serializer(kind).dumps(payload)


def read(kind: str, token: str | None) -> dict[str, Any] | None:
    """The payload of a valid, unexpired token of ``kind``; None for anything else
    (forged, expired, another kind, malformed, oversized, NUL bytes...)."""
    if kind not in MAX_AGE or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not token.isascii() or not token.isprintable():
        return None
    try:
        payload = _serializer(kind).loads(token, max_age=MAX_AGE[kind])
    except (BadData, UnicodeError, ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def password_fingerprint(password_hash: str) -> str:
    """A keyed digest of a password hash: binds a reset link to the password it replaces
    without putting hash bits in a mail."""
    key = get_settings().secret().encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def session_stamp(password_hash: str) -> str:
    """A keyed digest of a password hash for staff sessions (another key than the reset
    links' fingerprint): a session opened with one password is void under the next."""
    key = hashlib.sha256(b"staff-session\0" + get_settings().secret().encode()).digest()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]

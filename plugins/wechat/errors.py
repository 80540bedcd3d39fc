"""WeChat's ``errcode`` values as :class:`ChannelError`, with what the host should do.

From WeChat's global return codes and the customer-service message page: 45015 is the
48-hour window (or the member unfollowed), 45047 this member's quota of replies, 45009 and
45011 the account's API quota, -1 "system busy". A token error (40001, 40014, 42001) is
retried once with a fresh token by the caller before it becomes ``auth`` here.
"""

from __future__ import annotations

from typing import Any

from loyalchat.extensions.channels import ChannelError

__all__ = ["INVALID_TOKEN", "errcode", "error_for"]

INVALID_TOKEN = frozenset({40001, 40014, 42001})
_AUTH = INVALID_TOKEN | {40002, 40013, 40125, 40164, 41001, 41002, 41004, 48001, 89503}
_RECIPIENT = frozenset({40003, 43004, 43019})
_QUOTA = frozenset({45009, 45011})
QUOTA_RETRY_SECONDS = 60.0


def errcode(data: Any) -> int:
    """The ``errcode`` of a WeChat JSON answer (0 when it has none: a success)."""
    if not isinstance(data, dict):
        return 0
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


def error_for(code: int, errmsg: str, what: str) -> ChannelError:
    """The :class:`ChannelError` for WeChat's ``code`` on the call ``what`` ("send"...)."""
    message = f"WeChat {what}: {code} {errmsg}".strip()
    text = str(code)
    if code == 45015:
        return ChannelError(message, code=text, reason="window_closed")
    if code == 45047:
        return ChannelError(message, code=text, reason="rate")
    if code in _QUOTA:
        return ChannelError(
            message, code=text, reason="rate", retryable=True, retry_after=QUOTA_RETRY_SECONDS
        )
    if code in _AUTH:
        return ChannelError(message, code=text, reason="auth")
    if code in _RECIPIENT:
        return ChannelError(message, code=text, reason="recipient")
    return ChannelError(message, code=text, retryable=code == -1)

"""Security headers on every response: pages, JSON, static files, redirects and errors.

Added by a ``before_send`` hook, which Litestar runs for every message it sends, including
the router's own 404s and the exception handlers' pages (route middleware would miss
those). A header a handler set itself (the wallet's stricter ones) is left as it is.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from loyalchat.settings import Settings

# No inline script or style anywhere (templates keep both in /static); WebAssembly for
# the coupon scanner's ZXing ponyfill needs 'wasm-unsafe-eval' (compiling, not eval()).
# blob: images: the scanner decodes a chosen photo through an object URL.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS_MAX_AGE = 60 * 60 * 24 * 365


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers every response gets; HSTS only when people reach us over https."""
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        # Wallet URLs carry bearer tokens: never send any URL of ours in a Referer.
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",  # frame-ancestors for browsers without CSP level 2
    }
    if settings.public_base_url.startswith("https://"):
        headers["strict-transport-security"] = f"max-age={HSTS_MAX_AGE}"
    return headers


def security_headers_hook(settings: Settings) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook adding :func:`security_headers` to each response start."""
    wanted = list(security_headers(settings).items())

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in wanted:
            if name not in headers:
                headers[name] = value

    return add_headers

"""Structured logging (structlog): key-value lines on a terminal, JSON lines in production."""

from __future__ import annotations

import logging
import re
import sys
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from loyalchat.context import current_tenant_id
from loyalchat.settings import Settings


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    # httpx logs every request URL at INFO: WeChat puts its access_token in the query.
    for noisy in ("piccolo", "aiosqlite", "asyncio", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


_SECRET_PATH = re.compile(r"^/w/[^/]+")
# C0 and C1 control characters (and DEL): a raw NUL or newline from a request path must not
# reach a log line, where it could cut the line or forge another one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def loggable_path(path: str) -> str:
    """The request path without secrets (a member's wallet token is a credential) and with
    control characters escaped as ``\\xNN``."""
    masked = _SECRET_PATH.sub("/w/…", path)
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", masked)


def _tenant_of(scope: Scope) -> int | None:
    """The tenant the request was resolved to: the principal that
    :class:`loyalchat.tenants.auth.PrincipalMiddleware` left in the scope's state (its
    context variable is reset by the time the response has gone)."""
    principal = scope.get("state", {}).get("principal")
    tenant = getattr(principal, "tenant", None)
    return getattr(tenant, "id", None) if tenant is not None else current_tenant_id()


def access_logged(app: ASGIApp) -> ASGIApp:
    """Wrap the whole ASGI handler (router and exception handlers included) so that every
    HTTP request gets one line: method, path, the status actually sent, duration, tenant.

    It sits outside Litestar's router on purpose: route middleware never sees a 404 or 405
    from the router, and an error raised in a middleware (a guard's 403, the input guard's
    400) only becomes a response in the app-level exception handler, further out.
    """

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        except Exception:
            if status is None:  # nothing sent: the server answers 500 for us
                status = 500
            raise
        finally:
            structlog.get_logger("loyalchat.http").info(
                "request",
                method=scope.get("method"),
                path=loggable_path(scope.get("path", "")),
                # None: the client went away, or the app failed before answering at all.
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                tenant_id=_tenant_of(scope),
            )

    return handle

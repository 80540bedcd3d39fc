"""Structured logging (structlog): key-value lines on a terminal, JSON lines in production."""

from __future__ import annotations

import logging
import re
import sys
import time

import structlog
from litestar.middleware import ASGIMiddleware
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
    for noisy in ("piccolo", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


_SECRET_PATH = re.compile(r"^/w/[^/]+")


def loggable_path(path: str) -> str:
    """The request path without secrets: a member's wallet token is a credential."""
    return _SECRET_PATH.sub("/w/…", path)


class AccessLogMiddleware(ASGIMiddleware):
    """One structured line per request: method, path, status, duration, tenant."""

    # Decided on the request path (Litestar 3 will match exclude patterns on handler paths).
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, capture)
        finally:
            structlog.get_logger("loyalchat.http").info(
                "request",
                method=scope.get("method"),
                path=loggable_path(scope.get("path", "")),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                tenant_id=current_tenant_id(),
            )

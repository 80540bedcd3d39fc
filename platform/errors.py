"""Exception handlers: clear JSON for API routes, friendly pages for HTML routes."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from loyalchat.api_errors import (
    CODES_BY_STATUS,
    domain_error_payload,
    error_payload,
    http_error_code,
)
from loyalchat.context import NoTenantContext
from loyalchat.domain import DomainError
from loyalchat.i18n import locale_of
from loyalchat.log import loggable_path

log = structlog.get_logger(__name__)

TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported file type",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/hooks/", "/schema", "/health", "/ready")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _render(
    request: Request,
    status: int,
    detail: str,
    extra: dict | None = None,
    code: str | None = None,
    message: str | None = None,
) -> Response:
    title = TITLES.get(status, "Error")
    if wants_json(request):
        # The API's shape (loyalchat.api_errors): a stable code, texts in the caller's language.
        body = error_payload(
            request,
            status,
            code or CODES_BY_STATUS.get(status, "error"),
            detail=detail,
            extra=extra,
            message=message,
        )
        return Response(
            body,
            status_code=status,
            media_type=MediaType.JSON,
            headers={"content-language": locale_of(request)},
        )
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='')}")
    return Template(
        "errors/error.html",
        context={"status": status, "title": title, "detail": message or detail},
        status_code=status,
    )


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if exc.detail and exc.detail != TITLES.get(exc.status_code) else ""
    extra = exc.extra if isinstance(exc.extra, (dict, list)) and exc.status_code < 500 else None
    if isinstance(exc, NotFoundException):
        detail = "There is nothing at this address."
    code = http_error_code(exc)
    return _render(request, exc.status_code, str(detail or ""), extra, code)  # type: ignore[arg-type]


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    """A request the rules refused: its stable code, and a message in the caller's language."""
    error = domain_error_payload(request, exc)["error"]
    return _render(request, exc.status, exc.message, error.get("extra"), exc.code, error["message"])


def no_tenant_handler(request: Request, exc: NoTenantContext) -> Response:
    # A route reached tenant-owned data with no tenant: a bug; fail closed as "not found".
    log.error("no_tenant_context", path=loggable_path(request.url.path), error=str(exc))
    return _render(request, 404, "There is nothing at this address.")


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", path=loggable_path(request.url.path), error=type(exc).__name__)
    return _render(request, HTTP_500_INTERNAL_SERVER_ERROR, "We have been told. Please try again.")


EXCEPTION_HANDLERS = {
    HTTPException: http_exception_handler,
    NotAuthorizedException: http_exception_handler,
    NoTenantContext: no_tenant_handler,
    DomainError: domain_error_handler,
    Exception: internal_error_handler,
}

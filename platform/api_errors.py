"""Errors of the JSON API: a stable ``code`` and a message in the caller's language.

Every JSON error body is ``{"error": {"status", "code", "title", "message", "detail",
"extra"?}}``: ``code`` never changes once published (clients branch on it), ``title``
and ``message`` are in the language of the request (``Accept-Language``: zh-Hant,
zh-Hans, en), ``detail`` is the technical English detail for logs, ``extra`` holds
machine-readable facts (``balance``, ``used_at``...). Services raise
``loyalchat.domain.DomainError``; HTTP errors (404, validation...) get a code by status.

:data:`MESSAGES` is the one table of user-facing texts by code. Its English texts are
marked with ``N_`` for extraction: the ``pybabel extract`` command in frontend/babel.cfg
scans ``../platform``, so the catalogues (``loyalchat.i18n``) pick them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from loyalchat.domain import DomainError
from loyalchat.i18n import N_, format_datetime, locale_of, translations
from loyalchat.tenants.auth import principal_of

# English titles by status (the same texts as loyalchat.errors.TITLES, so translated).
TITLES = {
    400: N_("Bad request"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    415: N_("Unsupported file type"),
    422: N_("Please check the form"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
}

# The code an HTTP error gets when nothing more precise is known.
CODES_BY_STATUS = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

# User-facing messages by code. ``%(name)s`` is filled from the error's ``extra``.
# ``<code>.<problem>`` is a more precise text for an error whose ``extra["problem"]`` says
# which rule it broke (the code stays the same for clients).
MESSAGES: dict[str, str] = {
    "invalid": N_("Please check the request: a value is missing or not valid."),
    "amount_not_string": N_(
        'Send amounts of money as text with a decimal point, e.g. "1000.00": '
        "a JSON number can lose cents."
    ),
    "unauthorized": N_("Send a valid API key as 'Authorization: Bearer ...'."),
    "forbidden": N_("The role of this API key does not allow this."),
    "not_found": N_("Nothing was found with this number or code."),
    "method_not_allowed": N_("This address does not accept this method."),
    "conflict": N_("This clashes with the current state. Reload and try again."),
    "too_large": N_("The request is too large."),
    "unsupported_media_type": N_("Send the request body as JSON."),
    "too_many_requests": N_("Too many requests. Wait a moment and try again."),
    # loyalchat.inputguard: input nothing can store
    "invalid_character": N_(
        "The request contains a character that cannot be stored (NUL). Remove it and try again."
    ),
    "invalid_json": N_("The JSON body is nested too deeply."),
    "invalid_encoding": N_("The form is not valid UTF-8 text. Send it again from its page."),
    "internal_error": N_("We have been told. Please try again."),
    "unavailable": N_("The service is busy. Please try again shortly."),
    # Idempotency-Key
    "invalid_idempotency_key": N_("An Idempotency-Key is 1 to 255 printable ASCII characters."),
    "idempotency_key_reused": N_(
        "This Idempotency-Key was already used for a different request. "
        "Use a new key for a new request."
    ),
    "request_in_progress": N_(
        "A request with this Idempotency-Key is still running. Try again in a moment."
    ),
    "idempotency_conflict": N_("This idempotency key was already used for something else."),
    "secret_not_replayable": N_(
        "The first request with this Idempotency-Key created API key %(id)s. Its secret "
        "was shown only in that answer and is not kept. If it was lost, revoke key "
        "%(id)s and create a new one."
    ),
    # the shop's status (tenants.access)
    "tenant_suspended": N_(
        "This shop is suspended: its data can be viewed but not changed. Contact support."
    ),
    "tenant_not_active": N_(
        "This shop is not approved yet: only its application and account pages are open."
    ),
    # members
    "member_merged": N_("This member was merged into another member: use that one instead."),
    "identity_taken": N_("This chat account already belongs to another member."),
    "invalid_name": N_("Check the name."),
    "invalid_phone": N_("Check the phone number."),
    "invalid_email": N_("Check the e-mail address."),
    "invalid_birthday": N_("Check the birthday."),
    "invalid_birthday.future": N_("A birthday cannot be in the future."),
    "invalid_birthday.too_early": N_("A birthday cannot be before 1900."),
    "invalid_tags": N_("Check the tags."),
    "invalid_notes": N_("The notes are too long."),
    "invalid_locale": N_("Choose zh-Hant, zh-Hans or en."),
    # points, purchases, stored value
    "insufficient_points": N_("Not enough points: %(balance)s available, %(needed)s needed."),
    "invalid_points": N_("Check the number of points: a whole number, not zero."),
    "reason_required": N_("Give a reason for this adjustment."),
    "invalid_amount": N_("Enter an amount above 0 with at most two decimal places."),
    "invalid_reference": N_("A purchase needs a reference of 1 to 100 characters."),
    "insufficient_stored_value": N_("Not enough stored value: %(balance)s available."),
    "reference_reused": N_(
        "This reference was already used for an amount of %(amount)s. "
        "Use a new reference for a new payment."
    ),
    "balance_out_of_range": N_("This would take the balance past the most it can hold."),
    # rewards and grants
    "invalid_reward": N_("Check the reward: some details are missing or not valid."),
    "unknown_reward_type": N_("There is no reward type %(kind)s."),
    "out_of_stock": N_("This reward is out of stock."),
    "limit_reached": N_("This member has already redeemed this reward as often as allowed."),
    "reward_unavailable": N_("This reward is not offered at the moment."),
    "plugin_disabled": N_("This shop does not use the plugin this needs (see Plugins)."),
    "already_used": N_("Already used on %(used_at)s by %(used_by_label)s."),
    "grant_expired": N_("This reward has expired."),
    "grant_void": N_("This reward was cancelled."),
    "grant_refused": N_("This reward cannot be marked used."),
    # chat channels and auto-replies
    "window_closed": N_(
        "The customer last wrote too long ago for this channel to carry a message. Ask them "
        "to write first (or set an approved template, where the channel has one)."
    ),
    "channel_account_taken": N_(
        "This account is already connected to another shop. Ask the platform's support to "
        "release it."
    ),
    "invalid_account_id": N_("Check the account ID: at most 128 characters."),
    "invalid_auto_reply": N_("Check the auto-reply: some details are missing or not valid."),
    "too_many_rules": N_("This shop has as many auto-replies as it can have. Delete one first."),
}

# Body fields that carry money: a JSON number there gets ``amount_not_string``.
MONEY_FIELDS = frozenset({"amount"})


class ErrorInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: int
    code: str
    title: str
    message: str
    detail: str = ""
    extra: dict[str, Any] | list[Any] | None = None


class ErrorBody(msgspec.Struct):
    """What every JSON API error looks like."""

    error: ErrorInfo


def _translate(connection: ASGIConnection | None, message: str) -> str:
    return translations(locale_of(connection)).gettext(message)


def _local_time(connection: ASGIConnection | None, value: str) -> str:
    """An ISO timestamp from ``extra`` as the caller reads dates, in the shop's time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    tenant = principal_of(connection).tenant if connection is not None else None
    timezone = tenant.timezone if tenant and tenant.timezone else "Asia/Hong_Kong"
    return format_datetime(moment, locale_of(connection), timezone)


def template_for(
    code: str, extra: Mapping[str, Any] | None = None, table: Mapping[str, str] = MESSAGES
) -> str | None:
    """The untranslated text for ``code`` in ``table``: ``<code>.<extra["problem"]>`` first."""
    problem = (extra or {}).get("problem")
    precise = table.get(f"{code}.{problem}") if isinstance(problem, str) else None
    return precise or table.get(code)


def message_for(
    connection: ASGIConnection | None,
    code: str,
    fallback: str = "",
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The user-facing message for ``code`` in the caller's language.

    A code without an entry in :data:`MESSAGES` shows ``fallback`` (the service's own
    English text), translated when the catalogue happens to know it.
    """
    template = template_for(code, extra)
    if template is None:
        return _translate(connection, fallback) if fallback else ""
    text = _translate(connection, template)
    if "%(" not in text:
        return text
    values = {
        key: _local_time(connection, value)
        if key.endswith("_at") and isinstance(value, str)
        else f"{value:,}"
        if isinstance(value, int) and not isinstance(value, bool)
        else value
        for key, value in (extra or {}).items()
    }
    try:
        return text % values
    except (KeyError, ValueError, TypeError):
        return _translate(connection, fallback) if fallback else text.split("%(")[0].strip()


def title_for(connection: ASGIConnection | None, status: int) -> str:
    return _translate(connection, TITLES.get(status, N_("Error")))


def error_payload(
    connection: ASGIConnection | None,
    status: int,
    code: str,
    *,
    detail: str = "",
    extra: Mapping[str, Any] | list[Any] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The JSON error body (as a dict) for one error."""
    facts = extra if isinstance(extra, Mapping) else None
    error: dict[str, Any] = {
        "status": status,
        "code": code,
        "title": title_for(connection, status),
        "message": message or message_for(connection, code, detail, facts),
        "detail": detail,
    }
    if extra:
        error["extra"] = dict(extra) if isinstance(extra, Mapping) else list(extra)
    return {"error": error}


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    return msgspec.json.encode(payload, enc_hook=str)


def domain_error_payload(connection: ASGIConnection | None, exc: DomainError) -> dict[str, Any]:
    extra = {key: _plain(value) for key, value in exc.extra.items()}
    return error_payload(connection, exc.status, exc.code, detail=exc.message, extra=extra)


def _plain(value: Any) -> Any:
    """``extra`` values as JSON has them (datetimes as ISO text, Decimals as text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool, type(None), list, dict)):
        return value
    return str(value)


def http_error_code(exc: HTTPException) -> str:
    """The code for a framework error: by status, or ``amount_not_string``."""
    if isinstance(exc, ValidationException) and _money_sent_as_number(exc.extra):
        return "amount_not_string"
    return CODES_BY_STATUS.get(exc.status_code, "error")


def _money_sent_as_number(extra: Any) -> bool:
    problems = extra if isinstance(extra, list) else []
    for problem in problems:
        if not isinstance(problem, Mapping):
            continue
        message = str(problem.get("message", ""))
        if problem.get("key") in MONEY_FIELDS and message.startswith("Expected `str`, got `"):
            return message.split("got `", 1)[1].startswith(("float", "int"))
    return False


# -- OpenAPI: documented error responses ------------------------------------------------


def error_example(status: int, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An English example body for ``code`` (what the schema shows)."""
    return error_payload(None, status, code, detail=MESSAGES.get(code, ""), extra=extra)


# Every API route can answer these.
# (The input guard answers any route: a NUL anywhere, JSON nested too deeply.)
COMMON_ERRORS: tuple[tuple[int, str], ...] = (
    (400, "invalid"),
    (400, "invalid_character"),
    (400, "invalid_json"),
    (401, "unauthorized"),
)
NOT_FOUND = (404, "not_found")
FORBIDDEN = (403, "forbidden")
# Every POST (the Idempotency-Key middleware).
IDEMPOTENCY_ERRORS = ((409, "request_in_progress"), (422, "idempotency_key_reused"))


def error_responses(
    *errors: tuple[int, str] | tuple[int, str, dict[str, Any]],
) -> dict[int, ResponseSpec]:
    """``responses=`` for a route: each ``(status, code[, extra])`` becomes an example.

    :data:`COMMON_ERRORS` are always included.
    """
    by_status: dict[int, list[Example]] = {}
    seen: set[tuple[int, str]] = set()
    for status, code, *rest in (*COMMON_ERRORS, *errors):
        if (status, code) in seen:
            continue
        seen.add((status, code))
        extra = rest[0] if rest else None
        by_status.setdefault(status, []).append(
            Example(summary=code, value=error_example(status, code, extra))
        )
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            generate_examples=False,
            description=", ".join(str(example.summary) for example in examples),
            examples=examples,
        )
        for status, examples in sorted(by_status.items())
    }


def replayed_response(kind: type, what: str = "the first result") -> dict[int, ResponseSpec]:
    """``responses=`` entry for a POST whose service replays: 200 with ``kind`` (``replayed``)."""
    return {
        200: ResponseSpec(
            data_container=kind,
            generate_examples=False,
            description=f"Done before (same reference or Idempotency-Key): {what}, replayed.",
        )
    }

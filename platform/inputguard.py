"""Refuse input no part of loyalchat can store, before any handler sees it.

A NUL character cannot be stored in a PostgreSQL text column (``invalid byte sequence``),
so a request carrying one would fail deep inside a query as a 500, possibly half way
through. JSON nested thousands of levels deep makes the decoder raise ``RecursionError``.
:class:`InputGuardMiddleware` checks every HTTP request once, for every area (JSON API,
console, wallet, login, webhooks): the decoded path, the query string, and form and JSON
bodies. It answers 400 ``invalid_character`` or ``invalid_json`` through the app's
exception handlers, so the API gets its JSON error and a page the friendly error page.

Bodies are checked while the app reads them: ``receive`` is wrapped, the body flows on
unchanged, and the last chunk raises instead of arriving when the body is bad. Whoever
reads the body first (the CSRF check, the Idempotency-Key middleware, the handler) gets
the error before anything is done. Multipart bodies are parsed as they stream: only text
fields are checked, uploaded files (a reward picture) may hold any bytes.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

import msgspec
from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from multipart import MultipartSegment, ParserError, PushMultipartParser

from loyalchat.bounds import InvalidCharacter
from loyalchat.domain import DomainError

# JSON documents the API takes are a few levels deep; anything far past that is hostile.
MAX_JSON_DEPTH = 32
# A JSON ``\u0000`` escape: preceded by an even number of backslashes (``\\u0000`` is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_JSON_START = frozenset(b"[{")
_UTF8 = frozenset({"utf-8", "utf8"})


class InvalidJson(DomainError):
    """The JSON body is nested too deeply to be read safely."""

    code = "invalid_json"
    status = 400


class InvalidEncoding(DomainError):
    """A form's text is not valid UTF-8 (``name=%C3``): decoding it would store U+FFFD."""

    code = "invalid_encoding"
    status = 400


def refuse_nul(where: str) -> InvalidCharacter:
    return InvalidCharacter(f"the {where} contains a NUL character", where=where)


def check_json(body: bytes) -> None:
    """Raise for a JSON body holding NUL or nested past :data:`MAX_JSON_DEPTH`.

    Malformed JSON passes: the handler's own decoder reports it with its usual 400.
    """
    if b"\x00" in body or _JSON_NUL.search(body):
        raise refuse_nul("body")
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return  # cannot be deeper than that: no need to decode
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        raise _too_deep() from None
    except msgspec.DecodeError:
        return
    if _depth(value) > MAX_JSON_DEPTH:
        raise _too_deep()


def _too_deep() -> InvalidJson:
    return InvalidJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", limit=MAX_JSON_DEPTH)


def _depth(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_form(body: bytes) -> None:
    """Raise for an ``application/x-www-form-urlencoded`` body that decodes to a NUL or
    to bytes that are not UTF-8 (``&`` and ``=`` are ASCII: the whole body decodes as one)."""
    if b"%00" in body or b"\x00" in body:
        raise refuse_nul("form")
    check_utf8(unquote_to_bytes(body.replace(b"+", b" ")))


def check_utf8(text: bytes) -> None:
    """Raise :class:`InvalidEncoding` unless ``text`` is UTF-8."""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncoding("the form is not valid UTF-8", where="form") from None


class _MultipartText:
    """Feed a multipart body chunk by chunk; raise when a part's headers hold a NUL (raw,
    or ``%00`` in its name), or a text field (not a file) holds NUL or is not UTF-8."""

    def __init__(self, boundary: str) -> None:
        self._parser: PushMultipartParser | None = PushMultipartParser(boundary.encode())
        self._text: bytearray | None = None  # the current text field, None in a file

    def feed(self, chunk: bytes) -> None:
        if self._parser is None:
            return
        try:
            for part in self._parser.parse(chunk):
                if isinstance(part, MultipartSegment):
                    # The parser cuts an unquoted name at a NUL (``name=na\0me`` is "na"):
                    # look at the raw header values, not only at the parsed name.
                    if any("\x00" in value for _, value in part.headerlist) or "%00" in (
                        part.name + (part.filename or "")
                    ):
                        raise refuse_nul("form")
                    if not part.filename and (part.charset or "utf-8").lower() not in _UTF8:
                        # Read as UTF-8 or not at all (an unknown charset fails in the reader).
                        raise InvalidEncoding("the form is not UTF-8", where="form")
                    self._text = None if part.filename else bytearray()
                elif part:
                    if self._text is not None:
                        if b"\x00" in part:
                            raise refuse_nul("form")
                        self._text.extend(part)
                elif self._text is not None:  # the end of a text field
                    check_utf8(bytes(self._text))
                    self._text = None
        except ParserError:
            self._parser = None  # malformed: the form reader reports it


def _content_type(scope: Scope) -> tuple[str, dict[str, str]]:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind, _, rest = value.decode("latin-1").partition(";")
            params = {}
            for item in rest.split(";"):
                key, _, val = item.strip().partition("=")
                params[key.lower()] = val.strip('"')
            return kind.strip().lower(), params
    return "", {}


def _checking(scope: Scope, receive: Receive) -> Receive:
    """``receive`` with the body checked as it arrives (see the module docstring)."""
    kind, params = _content_type(scope)
    multipart = (
        _MultipartText(params["boundary"])
        if kind == "multipart/form-data" and params.get("boundary")
        else None
    )
    chunks: list[bytes] = []

    async def checked() -> Message:
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunk = message.get("body", b"")
        if multipart is not None:
            multipart.feed(chunk)
            return message
        chunks.append(chunk)
        if not message.get("more_body", False):
            body = b"".join(chunks)
            chunks.clear()
            check_body(kind, body)
        return message

    return checked


def check_body(kind: str, body: bytes) -> None:
    """Raise for a whole (not multipart) body of content type ``kind`` holding what cannot
    be stored: a form by :func:`check_form`, anything that looks like JSON by
    :func:`check_json` (whatever the content type says: handlers decode it regardless)."""
    if kind == "application/x-www-form-urlencoded":
        check_form(body)
    elif body.lstrip()[:1] and body.lstrip()[0] in _JSON_START:
        check_json(body)


def check_target(path: str, query: bytes) -> None:
    """Raise for a NUL in the decoded path or in the query string."""
    if "\x00" in path:
        raise refuse_nul("path")
    if b"%00" in query or b"\x00" in query:
        raise refuse_nul("query")


def _unicode_digit_id(scope: Scope) -> bool:
    """Whether a route with a number in its path was reached with non-ASCII digits.

    The router's ``int`` converter calls ``int()``, which reads "１２" (full-width) as 12;
    no one writes an id that way, and amounts get the same refusal elsewhere.
    """
    params = scope.get("path_params") or {}
    if not any(type(value) is int for value in params.values()):
        return False
    return any(char.isdecimal() and not char.isascii() for char in scope["path"])


class InputGuardMiddleware(ASGIMiddleware):
    """400 for a NUL in the path, query or body, and for JSON nested too deeply."""

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        check_target(scope["path"], scope.get("query_string", b""))
        if _unicode_digit_id(scope):
            raise ValidationException("a number in the path must be written in ASCII digits")
        await next_app(scope, _checking(scope, receive), send)

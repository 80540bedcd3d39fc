"""What every loyalty service shares: a domain error with a stable code, and a page of rows.

Services raise :class:`DomainError` subclasses; the JSON API turns them into
``{"error": {"code": ..., "message": ...}}`` with the message in the caller's language,
and console pages show the same message. ``code`` never changes once published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A request the rules refuse. ``status`` is the HTTP status the API answers with."""

    code = "invalid"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total

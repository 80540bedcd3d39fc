"""A service :class:`~loyalchat.domain.Page` as the JSON API's paginated envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar.pagination import OffsetPagination

from loyalchat.domain import Page

T = TypeVar("T")


def offset_page(page: Page[T], to_json: Callable[[T], Any]) -> OffsetPagination[Any]:
    """``{"items": [...], "total", "limit", "offset"}`` with each item made by ``to_json``."""
    return OffsetPagination(
        items=[to_json(item) for item in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )

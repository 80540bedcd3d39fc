"""Server-side staff sessions (Redis store when configured), with id rotation at login.

Litestar reuses the session id a browser presents; a login must not (session fixation),
so :func:`rotate` marks the session and the backend issues a fresh id when storing it.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from loyalchat.settings import Settings

SESSION_COOKIE = "lc_session"
_ROTATE = "_rotate"


def rotate(session: dict[str, Any]) -> None:
    """Ask for a new session id when this response stores the session."""
    session[_ROTATE] = True


class RotatingSessionBackend(ServerSideSessionBackend):
    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        presented = connection.cookies.get(self.config.key)
        if not scope_session and (not presented or presented == "null"):
            return  # nothing to keep and nothing to forget: no store round trip, no cookie
        if not (isinstance(scope_session, dict) and scope_session.pop(_ROTATE, False)):
            await super().store_in_message(scope_session, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        old_id = connection.cookies.get(self.config.key)
        if old_id and old_id != "null":
            await self.delete(old_id, store=store)
        new_id = self.generate_session_id()
        await self.set(
            session_id=new_id,
            data=self.serialize_data(scope_session, connection.scope),
            store=store,
        )
        params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=new_id, key=self.config.key, **params).to_header(header="")
        )


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(settings: Settings) -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key=SESSION_COOKIE,
        store="sessions",
        max_age=settings.session_max_age,
        secure=settings.cookies_secure,
        httponly=True,
        samesite="lax",
        # Machine routes never use a session; sparing them keeps /ready honest and fast.
        exclude=["^/api/", "^/hooks/", "^/health$", "^/ready$", "^/schema", "^/static/"],
    )


def make_stores(settings: Settings) -> dict[str, Store]:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        root = RedisStore.with_client(url=settings.redis_url, namespace="loyalchat")
        return {"sessions": root.with_namespace("sessions"), "cache": root.with_namespace("cache")}
    return {"sessions": MemoryStore(), "cache": MemoryStore()}

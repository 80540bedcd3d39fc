"""Server-side staff sessions (Redis store when configured), with id rotation at login.

Litestar reuses the session id a browser presents; a login must not (session fixation),
so :func:`rotate` marks the session and the backend issues a fresh id when storing it.

A signed-in session holds the person's id, the shop they work in and the stamp of the
password they signed in with (:func:`loyalchat.tenants.account_tokens.session_stamp`).
Each request compares that stamp with the current password's
(:func:`loyalchat.tenants.auth.resolve_principal`): a password reset, or any new
password (``loyalchat createadmin``), signs that person out of every session opened
before it, on every web process, without a list of sessions to hunt down. The session
that did the reset is signed out too: it goes to /login and signs in with the new
password. Sessions from before this stamp existed hold none and sign in again once.
"""

from __future__ import annotations

import hmac
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
USER_KEY, TENANT_KEY, STAMP_KEY = "uid", "tid", "pws"


def rotate(session: dict[str, Any]) -> None:
    """Ask for a new session id when this response stores the session."""
    session[_ROTATE] = True


def sign_in(session: dict[str, Any], user_id: int, tenant_id: int | None, stamp: str) -> None:
    """Make ``session`` a fresh one (new id, nothing kept) signed in as ``user_id``."""
    session.clear()
    rotate(session)
    session[USER_KEY] = user_id
    session[STAMP_KEY] = stamp
    if tenant_id is not None:
        session[TENANT_KEY] = tenant_id


def stamp_holds(session: dict[str, Any], stamp: str) -> bool:
    """Was ``session`` opened with the password whose stamp is ``stamp``?"""
    held = session.get(STAMP_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, stamp)


def sign_out(session: dict[str, Any]) -> None:
    """Forget who signed in (with a new session id); the rest, such as a message for the
    next page, stays."""
    for key in (USER_KEY, TENANT_KEY, STAMP_KEY):
        session.pop(key, None)
    rotate(session)


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

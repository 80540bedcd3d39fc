"""The official account's ``access_token``, fetched with ``stable_token`` and shared.

WeChat's docs ask for one owner of the token per appid: callers that each fetched their
own would waste the quota (and, with the classic endpoint, invalidate each other's). With
``LOYALCHAT_REDIS_URL`` set the token lives in Redis and one worker at a time fetches it,
under a ``SET NX PX`` lock per appid; the others wait and read what it stored. Embedded
(no Redis) it lives in this process, behind an ``asyncio.Lock`` per appid. The token is
kept until shortly before WeChat's ``expires_in``; a call answered with a token error
drops it (only if it is still the one that failed) and fetches once more.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from loyalchat.extensions.channels import ChannelError
from loyalchat.plugins.wechat.errors import errcode, error_for
from loyalchat.settings import get_settings

__all__ = [
    "MemoryTokens",
    "RedisTokens",
    "TokenStore",
    "access_token",
    "forget_tokens",
    "invalidate",
    "token_store",
]

STABLE_PATH = "/cgi-bin/stable_token"
LOCK_MS = 15_000  # longer than a stable_token call may take (the HTTP timeout is 10 s)
WAIT_STEP = 0.05
_PREFIX = "loyalchat:wechat:token"
# Compare-and-delete: only the holder releases a lock, only a failed token is dropped.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Fetch = Callable[[], Awaitable[tuple[str, float]]]


def _lifetime(expires_in: float) -> float:
    """Seconds to keep a token: a margin before WeChat's ``expires_in`` (7,200 s, or >= 300)."""
    return max(expires_in - 120.0, expires_in / 2, 1.0)


class TokenStore(Protocol):
    async def get(self, key: str, fetch: Fetch) -> str: ...

    async def drop(self, key: str, token: str) -> None: ...


class MemoryTokens:
    """Tokens in this process; one fetch at a time per appid (per event loop's lock)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _lock(self, key: str) -> asyncio.Lock:
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        return locks.setdefault(key, asyncio.Lock())

    def _cached(self, key: str) -> str:
        token, until = self._tokens.get(key, ("", 0.0))
        return token if token and time.monotonic() < until else ""

    async def get(self, key: str, fetch: Fetch) -> str:
        if token := self._cached(key):
            return token
        async with self._lock(key):
            if token := self._cached(key):  # fetched while we waited for the lock
                return token
            token, expires_in = await fetch()
            self._tokens[key] = (token, time.monotonic() + _lifetime(expires_in))
            return token

    async def drop(self, key: str, token: str) -> None:
        if self._tokens.get(key, ("",))[0] == token:
            del self._tokens[key]

    def clear(self) -> None:
        self._tokens.clear()


class RedisTokens:
    """Tokens in Redis, shared by every process; a ``SET NX PX`` lock per appid."""

    def __init__(self, url: str, *, wait_seconds: float = 20.0) -> None:
        self.url = url
        self.wait_seconds = wait_seconds

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        return aioredis.Redis.from_url(self.url, socket_timeout=5)

    async def get(self, key: str, fetch: Fetch) -> str:
        import redis.exceptions

        try:
            return await self._get(key, fetch)
        except redis.exceptions.RedisError as exc:  # an outage delays the send, loses nothing
            raise ChannelError(f"WeChat token: Redis {type(exc).__name__}", retryable=True) from exc

    async def _get(self, key: str, fetch: Fetch) -> str:
        lock = f"{key}:lock"
        deadline = time.monotonic() + self.wait_seconds
        async with self._client() as client:
            while True:
                if value := await client.get(key):
                    return value.decode()
                mine = secrets.token_hex(16)
                if await client.set(lock, mine, nx=True, px=LOCK_MS):
                    try:
                        # Another worker may have stored it between our read and our lock.
                        if value := await client.get(key):
                            return value.decode()
                        token, expires_in = await fetch()
                        await client.set(key, token, px=int(_lifetime(expires_in) * 1000))
                        return token
                    finally:
                        await client.eval(_DELETE_IF, 1, lock, mine)
                if time.monotonic() > deadline:
                    raise ChannelError(
                        "WeChat token: another worker holds the lock", retryable=True
                    )
                await asyncio.sleep(WAIT_STEP)

    async def drop(self, key: str, token: str) -> None:
        import redis.exceptions

        try:
            async with self._client() as client:
                await client.eval(_DELETE_IF, 1, key, token)
        except redis.exceptions.RedisError as exc:
            raise ChannelError(f"WeChat token: Redis {type(exc).__name__}", retryable=True) from exc


_memory = MemoryTokens()


def token_store() -> TokenStore:
    """Redis when the deployment has it, else this process's memory."""
    url = get_settings().redis_url
    return RedisTokens(url) if url else _memory


def forget_tokens() -> None:
    """Drop the in-process tokens (tests that point the API at a new fake)."""
    _memory.clear()


def _key(base: str, appid: str) -> str:
    # The API host is part of the key so a staging fake never gets production's token.
    return f"{_PREFIX}:{urlsplit(base).netloc}:{appid}"


async def _fetch(
    client: httpx.AsyncClient, base: str, config: Mapping[str, Any]
) -> tuple[str, float]:
    body = {
        "grant_type": "client_credential",
        "appid": str(config.get("appid") or ""),
        "secret": str(config.get("secret") or ""),
        "force_refresh": False,
    }
    try:
        response = await client.post(base + STABLE_PATH, json=body)
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ChannelError(f"WeChat token: {type(exc).__name__}", retryable=True) from exc
    if code := errcode(data):
        raise error_for(code, str(data.get("errmsg", "")), "token")
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ChannelError(f"WeChat token: HTTP {response.status_code}, no token", retryable=True)
    try:
        expires_in = float(data.get("expires_in") or 7200)
    except (TypeError, ValueError):
        expires_in = 7200.0
    return token, expires_in


async def access_token(
    config: Mapping[str, Any],
    client: httpx.AsyncClient,
    *,
    base: str | None = None,
    store: TokenStore | None = None,
) -> str:
    """The account's current token: cached, else fetched by one caller per appid."""
    appid = str(config.get("appid") or "")
    if not appid or not config.get("secret"):
        raise ChannelError("WeChat: appid and secret are not set", reason="auth")
    base = base or get_settings().wechat_api_base.rstrip("/")
    store = store or token_store()
    return await store.get(_key(base, appid), lambda: _fetch(client, base, config))


async def invalidate(
    config: Mapping[str, Any],
    token: str,
    *,
    base: str | None = None,
    store: TokenStore | None = None,
) -> None:
    """Forget ``token`` after WeChat refused it (kept if another caller already replaced it)."""
    base = base or get_settings().wechat_api_base.rstrip("/")
    await (store or token_store()).drop(_key(base, str(config.get("appid") or "")), token)

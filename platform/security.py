"""Passwords (argon2id), secrets at rest (Fernet, with key rotation), tokens and digests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import secrets
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from loyalchat.settings import Settings, get_settings

# argon2-cffi's defaults are argon2id (RFC 9106 low-memory profile).
_hasher = PasswordHasher()
# Verified against when an account does not exist, so a miss costs as much as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
# argon2 runs in worker threads, at most this many at once per process: each takes 64 MiB
# and most of a core for a good part of a second; more would only queue inside the CPU.
HASHING_THREADS = 2


class HashingStats:
    """argon2 verifications started and running in this process: a metric, counted in tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.running = 0

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        with self._lock:
            self.total += 1
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1


password_verifications = HashingStats()
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _hashing_limiter() -> anyio.CapacityLimiter:
    # One per event loop: a limiter belongs to the loop it was made on (tests run several).
    loop = asyncio.get_running_loop()
    if (limiter := _limiters.get(loop)) is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASHING_THREADS)
    return limiter


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: a missing account still pays for one argon2 verification."""
    with password_verifications.track():
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password` in a worker thread, so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(
        verify_password, password_hash, password, limiter=_hashing_limiter()
    )


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` in a worker thread (see :func:`verify_password_async`)."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_hashing_limiter())


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    return None


def sha256_hex(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


class SecretBox:
    """Encrypts tenant secrets at rest. The first key encrypts; every key decrypts."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("SecretBox needs at least one Fernet key")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured keys") from exc

    def encrypt_json(self, value: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(value, sort_keys=True)) if value else ""

    def decrypt_json(self, token: str) -> dict[str, Any]:
        return json.loads(self.decrypt(token)) if token else {}

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the newest key."""
        return self._fernet.rotate(token.encode()).decode() if token else token


@functools.cache
def _box_for(keys: tuple[str, ...]) -> SecretBox:
    return SecretBox(list(keys))


def secret_box(settings: Settings | None = None) -> SecretBox:
    return _box_for(tuple((settings or get_settings()).fernet_keys()))


def mask(value: str, keep: int = 4) -> str:
    """What the console shows of a stored secret: never the whole of it."""
    if not value:
        return ""
    if len(value) <= keep * 2:
        return "•" * 8
    return "•" * 8 + value[-keep:]

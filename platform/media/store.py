"""Content-addressed media storage, one folder per tenant.

A file's key is the sha256 of its bytes (64 lowercase hex characters), so saving the same
bytes twice stores them once, and a key can never name a path outside the tenant's folder.
The tenant always comes from the context (:func:`loyalchat.context.require_tenant`): with
no tenant set every call fails closed, and one tenant's key is "not found" for another.

The interface is async so that a network store (S3-compatible, in production) fits it; the
local store does its file work in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Protocol

import structlog

from loyalchat.context import require_tenant
from loyalchat.domain import NotFound
from loyalchat.files import write_atomically
from loyalchat.settings import Settings, get_settings

log = structlog.get_logger(__name__)

KEY = re.compile(r"[0-9a-f]{64}")
KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")

# Formats we may hand out, by signature: anything else is served as opaque bytes.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (8, b"WEBP", "image/webp"),
    (0, b"%PDF-", "application/pdf"),
)


class MediaNotFound(NotFound):
    """No file with this key in the current tenant's store (or not a key at all)."""


class MediaStore(Protocol):
    """Where a tenant's media bytes live. Every method works in the current tenant."""

    async def save(self, data: bytes, *, kind: str) -> str:
        """Store ``data`` (once) and return its key, the sha256 in hex."""
        ...

    async def read(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`MediaNotFound` otherwise."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key`` names a file of the current tenant."""
        ...


def is_key(value: object) -> bool:
    """Whether ``value`` looks like a media key (64 lowercase hex characters)."""
    return isinstance(value, str) and KEY.fullmatch(value) is not None


def key_of(data: bytes) -> str:
    """The key ``data`` is stored under."""
    return hashlib.sha256(data).hexdigest()


def media_type_of(data: bytes) -> str:
    """The Content-Type of stored bytes, from their signature."""
    for offset, magic, media_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if media_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return media_type
    return "application/octet-stream"


class LocalMediaStore:
    """Files under ``<root>/<tenant id>/<key>``, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self) -> Path:
        return self.root / str(int(require_tenant()))

    async def save(self, data: bytes, *, kind: str) -> str:
        if not KIND.fullmatch(kind):
            raise ValueError(f"a media kind is a short lowercase name, not {kind!r}")
        if not isinstance(data, bytes) or not data:
            raise ValueError("no bytes to store")
        folder = self._folder()
        key = key_of(data)
        created = await asyncio.to_thread(_write_once, folder, key, data)
        if created:
            log.info("media_saved", kind=kind, key=key, size=len(data), tenant=folder.name)
        return key

    async def read(self, key: str) -> bytes:
        folder = self._folder()
        if not is_key(key):
            raise MediaNotFound("no such media file")
        try:
            return await asyncio.to_thread((folder / key).read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaNotFound("no such media file") from None

    async def exists(self, key: str) -> bool:
        folder = self._folder()
        if not is_key(key):
            return False
        return await asyncio.to_thread((folder / key).is_file)


def _write_once(folder: Path, key: str, data: bytes) -> bool:
    """Write ``data`` as ``folder/key`` unless it is there; True when this call wrote it.

    Readers never see a half-written file: the bytes go to a temporary file in the same
    folder, are flushed to disk, then renamed into place. Two writers of the same key write
    the same bytes, so whichever rename lands last changes nothing.
    """
    target = folder / key
    if target.is_file():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(target, data)
    return True


def media_store(settings: Settings | None = None) -> MediaStore:
    """The configured store (today: the local folder ``settings.media_dir``)."""
    return LocalMediaStore((settings or get_settings()).media_dir)


async def save(data: bytes, *, kind: str) -> str:
    """Store ``data`` for the current tenant and return its key (idempotent).

    ``kind`` says what it is (``reward_image``, ``receipt``...), for the log.
    """
    return await media_store().save(data, kind=kind)


async def read(key: str) -> bytes:
    """The current tenant's file ``key``; :class:`MediaNotFound` for any other key."""
    return await media_store().read(key)


async def exists(key: str) -> bool:
    """Whether the current tenant has a file ``key``."""
    return await media_store().exists(key)

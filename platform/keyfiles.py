"""Generated key files under ``var_dir``: created once, atomically, private, never weak.

A key file is written to a temporary file in the same folder, flushed to disk and renamed
into place, so a reader sees the whole key or no file at all; never an empty signing key
(with which anyone could forge a wallet link). An empty file can only be the leftover of a
crash in older versions, before anything was signed or encrypted with it, so it is
replaced; a short or malformed key is refused with an error that names the file.
"""

from __future__ import annotations

import binascii
import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography.fernet import Fernet

from loyalchat.files import write_atomically

MIN_SECRET_LENGTH = 32


class KeyFileError(RuntimeError):
    """A key file holds an unusable key; the message names the file and what to do."""


def secret_problem(value: str) -> str | None:
    """Why ``value`` cannot sign sessions and links, or None."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"is too short ({len(value)} characters, at least {MIN_SECRET_LENGTH})"
    return None


def fernet_problem(value: str) -> str | None:
    """Why ``value`` is not a Fernet key, or None."""
    try:
        Fernet(value.encode())
    except (ValueError, binascii.Error):
        return "is not a Fernet key (32 url-safe base64-encoded bytes, 44 characters)"
    return None


def persisted_key(
    path: Path, make: Callable[[], str], problem: Callable[[str], str | None], setting: str
) -> str:
    """The key kept in ``path``, made with ``make()`` when the file is missing or empty.

    Racing processes agree on one key: creation happens under a lock on the folder and the
    file is re-read inside it. ``setting`` names the variable that replaces the file.
    """
    value = _read(path)
    if not value:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _folder_lock(path.parent):
            value = _read(path)
            if not value:
                value = make()
                write_atomically(path, value.encode())
    if reason := problem(value):
        raise KeyFileError(
            f"{path} holds a key that {reason}: restore the file from a backup, "
            f"or set {setting} instead"
        )
    return value


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    # flock on the folder itself: no lock file left behind, released if the process dies.
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

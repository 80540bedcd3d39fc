"""The embedded outbox: one RFC 5322 ``.eml`` file per mail under ``<var_dir>/outbox/``."""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from loyalchat.settings import Settings, get_settings

_FILE = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{16}\.eml$")
HEADERS_ONLY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    name: str  # the file name: the id used in /admin/outbox/<name>
    to: str
    subject: str
    date: datetime | None
    size: int
    template: str


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    entry: OutboxEntry
    sender: str
    text: str
    html: str | None
    raw: str


def outbox_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).var_dir / "outbox"


def write_to_outbox(message: EmailMessage, settings: Settings | None = None) -> Path:
    """Write ``message`` as ``<timestamp>-<ns><random>.eml`` (atomically: temp file, rename).

    The names sort in the order the mails were written: the second, then the nanosecond
    within it (8 hex digits), then 8 random ones, so two mails of the same second are
    listed (and read by whoever wants "the newest") in order."""
    folder = outbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds))
    name = f"{stamp}-{nanoseconds:08x}{secrets.token_hex(4)}.eml"
    temporary = folder / f".{name}.tmp"
    temporary.write_bytes(message.as_bytes(policy=policy.SMTP))
    os.replace(temporary, folder / name)
    return folder / name


def _parse(path: Path, headers_only: bool) -> EmailMessage:
    with path.open("rb") as handle:
        parser = BytesParser(policy=policy.default)
        if headers_only:
            return parser.parsebytes(handle.read(HEADERS_ONLY_BYTES), headersonly=True)  # type: ignore[return-value]
        return parser.parse(handle)  # type: ignore[return-value]


def _entry(path: Path, message: EmailMessage) -> OutboxEntry:
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return OutboxEntry(
        name=path.name,
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        date=date.astimezone(UTC) if date else None,
        size=path.stat().st_size,
        template=str(message["X-Loyalchat-Template"] or ""),
    )


def outbox_messages(limit: int = 200, settings: Settings | None = None) -> list[OutboxEntry]:
    """The newest ``limit`` mails in the outbox, newest first."""
    folder = outbox_dir(settings)
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if _FILE.match(p.name)), reverse=True)
    entries = []
    for name in names[: max(0, limit)]:
        try:
            entries.append(_entry(folder / name, _parse(folder / name, headers_only=True)))
        except OSError:  # removed meanwhile
            continue
    return entries


def read_outbox_message(name: str, settings: Settings | None = None) -> OutboxMessage | None:
    """One outbox mail by file name, or None (unknown or not an outbox file name)."""
    if not _FILE.match(name):
        return None
    path = outbox_dir(settings) / name
    try:
        message = _parse(path, headers_only=False)
        raw = path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return OutboxMessage(
        entry=_entry(path, message),
        sender=str(message["From"] or ""),
        text=text_part.get_content() if text_part is not None else "",  # type: ignore[attr-defined]
        html=html_part.get_content() if html_part is not None else None,  # type: ignore[attr-defined]
        raw=raw,
    )

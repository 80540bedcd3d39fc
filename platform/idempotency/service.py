"""``Idempotency-Key`` for the JSON API: the only writer of ``IdempotentRequest``.

The first request with a key claims a row with ``status_code`` 0 ("in progress"); the
unique index on (tenant, credential, key) decides a race, so of two concurrent twins
exactly one runs. A key belongs to the credential that sent it (``api_key:<id>``,
``staff:<id>``): another API key of the same tenant with the same header gets a claim of
its own, never the first key's response. When the handler is done its status and body are stored, and later requests with
the same key and the same fingerprint get that response again. A claim whose request
died half-way (status still 0 long after it began) may be taken over: the services
behind the API have idempotency keys of their own (:func:`service_key`), so running
the handler a second time changes nothing that the first run committed.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loyalchat.context import cross_tenant
from loyalchat.idempotency.tables import IdempotentRequest
from loyalchat.scoping import (
    new_row,
    scoped_delete,
    scoped_insert,
    scoped_select,
    scoped_update,
    unscoped,
)

MAX_KEY_LENGTH = 255
# A request still "in progress" after this long died with its worker: let a retry run.
STALE_AFTER = timedelta(minutes=2)
# How long a stored response is replayed (and a key refused for another request).
KEEP_FOR = timedelta(hours=24)
# Service keys (ledger entries, grants) are at most 200 characters.
_SERVICE_KEY_ROOM = 150


class Claim(enum.StrEnum):
    started = "started"  # this request runs the handler and must finish() or release()
    replay = "replay"  # the first response is stored: send it again
    in_progress = "in_progress"  # the first request is still running
    mismatch = "mismatch"  # the key was used for a different request


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class ClaimResult:
    outcome: Claim
    response: StoredResponse | None = None


def valid_key(key: str) -> bool:
    """1-255 printable ASCII characters (what fits a header and our column)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the method, the path (with its query) and the body: "the same request"."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def service_key(key: str, request_fingerprint: str, credential: str) -> str:
    """The idempotency key a service gets for an API request with ``Idempotency-Key: key``.

    ``api:<credential>:<key>:<first 12 of the fingerprint>``: a replay of the same request
    maps to the same ledger entry or grant even after its stored response was purged,
    while a key reused (after 24 h) for another request, or by another API key, cannot
    pick up the old result. A long key is replaced by its hash, so the result fits the
    services' 200 characters.
    """
    if len(key) > _SERVICE_KEY_ROOM:
        key = "sha256-" + hashlib.sha256(key.encode()).hexdigest()
    return f"api:{credential}:{key}:{request_fingerprint[:12]}"


async def claim(
    key: str, credential: str, request_fingerprint: str, now: datetime | None = None
) -> ClaimResult:
    """Claim ``key`` for a request of ``credential`` in the current tenant, or say what
    happened to it before."""
    now = now or datetime.now(UTC)
    for _ in range(3):
        if (found := await _claim_once(key, credential, request_fingerprint, now)) is not None:
            return found
    # Released three times between our insert and our read: the first request keeps
    # failing; let the client try again later.
    return ClaimResult(Claim.in_progress)


async def _claim_once(
    key: str, credential: str, request_fingerprint: str, now: datetime
) -> ClaimResult | None:
    inserted = (
        await scoped_insert(
            IdempotentRequest,
            new_row(
                IdempotentRequest,
                credential=credential,
                key=key,
                fingerprint=request_fingerprint,
                status_code=0,
                created_at=now,
            ),
        )
        .on_conflict(
            target=(IdempotentRequest.tenant, IdempotentRequest.credential, IdempotentRequest.key),
            action="DO NOTHING",
        )
        .returning(IdempotentRequest.id)
    )
    if inserted:
        return ClaimResult(Claim.started)
    row = await scoped_select(IdempotentRequest).where(_is(key, credential)).first()
    if row is None:  # released (a 5xx) between our insert and this read: try again
        return None
    if row["fingerprint"] != request_fingerprint:
        return ClaimResult(Claim.mismatch)
    if row["status_code"] == 0:
        return ClaimResult(Claim.started if await _take_over(row, now) else Claim.in_progress)
    stored = StoredResponse(row["status_code"], row["response_body"].encode(), row["content_type"])
    return ClaimResult(Claim.replay, stored)


async def _take_over(row: dict, now: datetime) -> bool:
    """Claim a stale "in progress" row; one conditional UPDATE, so one taker wins."""
    created = row["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    if now - created < STALE_AFTER:
        return False
    taken = (
        await scoped_update(IdempotentRequest, {IdempotentRequest.created_at: now})
        .where(
            (IdempotentRequest.id == row["id"])
            & (IdempotentRequest.status_code == 0)
            & (IdempotentRequest.created_at == row["created_at"])
        )
        .returning(IdempotentRequest.id)
    )
    return bool(taken)


def _is(key: str, credential: str):
    return (IdempotentRequest.key == key) & (IdempotentRequest.credential == credential)


async def finish(
    key: str, credential: str, status_code: int, body: bytes, content_type: str
) -> None:
    """Store the response of the request that claimed ``key`` for ``credential``."""
    await scoped_update(
        IdempotentRequest,
        {
            IdempotentRequest.status_code: status_code,
            IdempotentRequest.response_body: body.decode("utf-8"),
            IdempotentRequest.content_type: content_type[:100],
        },
    ).where(_is(key, credential))


async def release(key: str, credential: str) -> None:
    """Forget ``key`` (the request failed on our side): the client may retry with it."""
    await scoped_delete(IdempotentRequest).where(_is(key, credential))


async def purge(now: datetime | None = None) -> int:
    """Delete stored responses older than :data:`KEEP_FOR`, for every tenant."""
    cutoff = (now or datetime.now(UTC)) - KEEP_FOR
    with cross_tenant("stored API responses expire after 24 h in every tenant"):
        table = unscoped(IdempotentRequest)
        gone = await table.delete().where(table.created_at < cutoff).returning(table.id)
    return len(gone)

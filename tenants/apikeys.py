"""Per-tenant API keys for integrations: shown once, stored hashed, scoped to a role.

A key reads ``lc_<prefix>_<secret>``. The prefix finds the row; the SHA-256 of the whole
key (high-entropy, so no slow hash is needed) is compared in constant time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loyalchat import db, security
from loyalchat.bounds import is_storable
from loyalchat.context import cross_tenant, require_tenant
from loyalchat.domain import Conflict
from loyalchat.idempotency.creating import create_once
from loyalchat.scoping import new_row, save_row, scoped_select, scoped_update
from loyalchat.tenants import audit
from loyalchat.tenants.tables import ApiKey, Role

KEY_PREFIX = "lc_"
# last_used_at is a hint for people, not an audit trail: one write a minute per key is enough.
LAST_USED_EVERY = timedelta(seconds=60)


class ApiKeyError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    name: str
    role: Role
    key: str  # the only time the full key exists outside the caller's hands


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    key_id: int
    tenant_id: int
    role: Role
    name: str


async def create_key(
    name: str,
    role: Role,
    created_by: int | None = None,
    *,
    idempotency_key: str | None = None,
) -> IssuedKey:
    """A new key of the current tenant; the returned ``key`` is never seen again.

    With ``idempotency_key`` (the API's ``Idempotency-Key``) a key is created once: a
    repeat raises ``Conflict("secret_not_replayable", id=<the first key's id>)``, since
    only the hash of the first key's secret was kept.
    """
    name = name.strip()
    if not name or len(name) > 100 or not is_storable(name):
        raise ApiKeyError("name: 1-100 characters, no control characters")

    async def create() -> IssuedKey:
        prefix = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        async with db.write_transaction():
            row = new_row(
                ApiKey,
                name=name,
                prefix=prefix,
                key_hash=security.sha256_hex(key),
                role=role.value,
                created_by=created_by,
                idempotency_key=idempotency_key,
            )
            await save_row(row)
            await audit.record(
                "api_key.create", f"api_key:{row.id}", after={"name": name, "role": role.value}
            )
        return IssuedKey(id=row.id, name=name, role=role, key=key)

    issued, replayed = await create_once(idempotency_key, _key_made_with, create)
    if replayed:
        raise Conflict(
            "this request already created an API key; its secret was shown only then",
            code="secret_not_replayable",
            id=issued.id,
        )
    return issued


async def _key_made_with(idempotency_key: str) -> IssuedKey | None:
    row = (
        await scoped_select(ApiKey, ApiKey.id, ApiKey.name, ApiKey.role)
        .where(ApiKey.idempotency_key == idempotency_key)
        .first()
    )
    return IssuedKey(row["id"], row["name"], Role(row["role"]), key="") if row else None


async def list_keys() -> list[dict]:
    return await scoped_select(
        ApiKey,
        ApiKey.id,
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.role,
        ApiKey.created_at,
        ApiKey.last_used_at,
        ApiKey.revoked_at,
    ).order_by(ApiKey.id, ascending=False)


async def get_key(key_id: int) -> dict | None:
    return (
        await scoped_select(
            ApiKey, ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.role, ApiKey.revoked_at
        )
        .where(ApiKey.id == key_id)
        .first()
    )


async def revoke_key(key_id: int) -> bool:
    """Revoke a key of the current tenant; False when it is not one of ours."""
    require_tenant()
    rows = (
        await scoped_update(ApiKey, {ApiKey.revoked_at: datetime.now(UTC)})
        .where((ApiKey.id == key_id) & ApiKey.revoked_at.is_null())
        .returning(ApiKey.id)
    )
    if not rows and not await get_key(key_id):
        return False
    if rows:
        await audit.record("api_key.revoke", f"api_key:{key_id}")
    return True


async def authenticate(raw_key: str) -> KeyPrincipal | None:
    """The principal for a presented key, or None (unknown or revoked).

    Runs before a tenant is known: the prefix lookup is by design cross-tenant. The
    tenant's status is not judged here: the route guards ask ``tenants.access``, so a
    suspended shop's key still reads (writes get 403 ``tenant_suspended``) and a shop
    not yet approved gets 403 ``tenant_not_active`` rather than a puzzling 401.
    """
    if not raw_key.startswith(KEY_PREFIX) or raw_key.count("_") < 2:
        return None
    prefix = raw_key[len(KEY_PREFIX) :].split("_", 1)[0]
    digest = security.sha256_hex(raw_key)
    with cross_tenant("API key lookup: the key names its tenant"):
        rows = await ApiKey.select(
            ApiKey.id, ApiKey.tenant, ApiKey.key_hash, ApiKey.role, ApiKey.name, ApiKey.revoked_at
        ).where(ApiKey.prefix == prefix)
    for row in rows:
        if security.constant_time_equal(row["key_hash"], digest) and row["revoked_at"] is None:
            await _touch(row["id"])
            return KeyPrincipal(row["id"], row["tenant"], Role(row["role"]), row["name"])
    return None


async def _touch(key_id: int) -> None:
    """Record a use, at most once a minute: one conditional UPDATE, no read first."""
    now = datetime.now(UTC)
    stale = ApiKey.last_used_at.is_null() | (ApiKey.last_used_at < now - LAST_USED_EVERY)
    with cross_tenant("API key lookup: the key names its tenant"):
        await ApiKey.update({ApiKey.last_used_at: now}).where((ApiKey.id == key_id) & stale)

"""The current tenant, held in a context variable for one request, task or command.

A tenant is resolved once per request (staff session, API key, webhook route or signed
member link) and set here. Services read it with :func:`require_tenant`, which fails
closed. Platform-admin work that spans tenants must say so with :func:`cross_tenant`,
a deliberately greppable bypass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


class NoTenantContext(RuntimeError):
    """A tenant-owned table was touched with no tenant set."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a staff user, an API key, or the system (tasks, CLI)."""

    kind: str  # "staff" | "api_key" | "system" | "member"
    id: int | None = None
    label: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}" if self.id is not None else self.kind


SYSTEM = Actor("system", label="system")

_tenant: ContextVar[int | None] = ContextVar("loyalchat_tenant", default=None)
_actor: ContextVar[Actor] = ContextVar("loyalchat_actor", default=SYSTEM)
_bypass: ContextVar[str | None] = ContextVar("loyalchat_cross_tenant", default=None)


def current_tenant_id() -> int | None:
    return _tenant.get()


def require_tenant() -> int:
    """The current tenant id; raises :class:`NoTenantContext` when none is set."""
    tenant_id = _tenant.get()
    if tenant_id is None:
        raise NoTenantContext("no tenant in context: refusing to touch tenant-owned rows")
    return tenant_id


def set_tenant(tenant_id: int | None) -> object:
    """Set the tenant for the rest of this context; returns a token for :func:`reset_tenant`."""
    return _tenant.set(tenant_id)


def reset_tenant(token: object) -> None:
    _tenant.reset(token)  # type: ignore[arg-type]


@contextlib.contextmanager
def tenant_context(tenant_id: int, actor: Actor | None = None) -> Iterator[None]:
    """Run a block as ``tenant_id`` (and ``actor``), restoring what was there before."""
    token = _tenant.set(tenant_id)
    actor_token = _actor.set(actor) if actor is not None else None
    try:
        yield
    finally:
        _tenant.reset(token)
        if actor_token is not None:
            _actor.reset(actor_token)


def current_actor() -> Actor:
    return _actor.get()


def set_actor(actor: Actor) -> object:
    return _actor.set(actor)


def reset_actor(token: object) -> None:
    _actor.reset(token)  # type: ignore[arg-type]


@contextlib.contextmanager
def cross_tenant(reason: str) -> Iterator[None]:
    """CROSS-TENANT BYPASS: platform-admin or system work that spans tenants.

    Every use names its reason, so ``grep -rn cross_tenant`` lists them all.
    """
    if not reason:
        raise ValueError("cross_tenant() needs a reason")
    token = _bypass.set(reason)
    try:
        yield
    finally:
        _bypass.reset(token)


def cross_tenant_reason() -> str | None:
    return _bypass.get()

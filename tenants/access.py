"""What a shop's people may do, by the shop's status: the one policy every door asks.

``active``: everything. ``suspended``: read-only (staff see the data with a banner, every
write is refused). ``applying``, ``pending_review``, ``rejected``: only the pages
onboarding needs (application, account); nothing of the programme. The route guards in
:mod:`loyalchat.tenants.auth` ask :func:`check`; pages and the chat channels ask
:func:`can_read` / :func:`can_write`.

A route opts out with its handler ``opt``: :data:`ANY_STATUS` for pages every status
needs (console home, switching shop, and onboarding's application and account pages),
:data:`NO_WRITES` for a POST that changes nothing (a preview).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from loyalchat.domain import DomainError
from loyalchat.tenants.tables import TenantStatus


class TenantAccess(enum.StrEnum):
    full = "full"
    read_only = "read_only"
    onboarding = "onboarding"


ACCESS_BY_STATUS = {
    TenantStatus.active.value: TenantAccess.full,
    TenantStatus.suspended.value: TenantAccess.read_only,
    TenantStatus.applying.value: TenantAccess.onboarding,
    TenantStatus.pending_review.value: TenantAccess.onboarding,
    TenantStatus.rejected.value: TenantAccess.onboarding,
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_STATUS = {"tenant_status": "any"}
NO_WRITES = {"writes": False}


class TenantNotActive(DomainError):
    """The shop is not approved (yet): its programme is closed to its staff and keys."""

    code = "tenant_not_active"
    status = 403


class TenantSuspended(TenantNotActive):
    """The shop is suspended: its data can be read, not changed."""

    code = "tenant_suspended"


def access_for(status: str) -> TenantAccess:
    """The access a shop in ``status`` gets; an unknown status gets the least (fail closed)."""
    return ACCESS_BY_STATUS.get(status, TenantAccess.onboarding)


def can_read(status: str) -> bool:
    """May the shop's staff (and keys, and members) see its programme?"""
    return access_for(status) is not TenantAccess.onboarding


def can_write(status: str) -> bool:
    """May anything of the shop's programme change (points, members, rewards, keys...)?"""
    return access_for(status) is TenantAccess.full


def is_write(method: str, opt: Mapping[str, Any]) -> bool:
    """A request writes unless it is a read method or its route declares :data:`NO_WRITES`."""
    return method.upper() in WRITE_METHODS and opt.get("writes", True) is not False


def check(status: str, *, method: str, opt: Mapping[str, Any]) -> None:
    """Raise :class:`TenantSuspended` / :class:`TenantNotActive` when a shop in ``status``
    may not run this route (``method`` and the handler's ``opt``); return otherwise."""
    if opt.get("tenant_status") == "any":
        return
    granted = access_for(status)
    if granted is TenantAccess.full:
        return
    if granted is TenantAccess.read_only:
        if is_write(method, opt):
            raise TenantSuspended("the shop is suspended: read-only", status=status)
        return
    raise TenantNotActive("the shop is not active: only its application is open", status=status)

"""Who is calling: resolved once per request into a Principal and the tenant context.

Staff sign in with a server-side session; integrations send ``Authorization: Bearer``
with a tenant API key (only under ``/api``, which is CSRF-exempt and cookie-blind).
The middleware sets the tenant ContextVar for the whole request; guards check roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from loyalchat.context import Actor, reset_actor, reset_tenant, set_actor, set_tenant
from loyalchat.tenants import access, accounts, apikeys, sessions
from loyalchat.tenants.service import TenantInfo, get_tenant
from loyalchat.tenants.tables import Role

API_PREFIX = "/api/"


@dataclass
class Principal:
    user: accounts.StaffInfo | None = None
    api_key: apikeys.KeyPrincipal | None = None
    tenant: TenantInfo | None = None
    role: Role | None = None
    memberships: list[accounts.Membership] = field(default_factory=list)

    @property
    def is_staff(self) -> bool:
        return self.user is not None

    @property
    def is_platform_admin(self) -> bool:
        return bool(self.user and self.user.is_platform_admin)

    @property
    def actor(self) -> Actor:
        if self.api_key:
            return Actor("api_key", self.api_key.key_id, self.api_key.name)
        if self.user:
            return Actor("staff", self.user.id, self.user.email)
        return Actor("anonymous")

    def has_role(self, needed: Role) -> bool:
        return self.role is not None and self.role.covers(needed)

    @property
    def programme_open(self) -> bool:
        """May this shop's staff see its programme (members, points...)? Not while it is
        applying, waiting for review or rejected (``tenants.access``)."""
        return self.tenant is not None and access.can_read(self.tenant.status)

    @property
    def read_only(self) -> bool:
        """The shop is readable but nothing may change (suspended): forms are pointless."""
        return self.programme_open and not access.can_write(self.tenant.status)  # type: ignore[union-attr]


ANONYMOUS = Principal()


def principal_of(connection: ASGIConnection) -> Principal:
    return connection.scope.get("state", {}).get("principal", ANONYMOUS)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def resolve_principal(scope: Scope) -> Principal:
    if scope["path"].startswith(API_PREFIX):
        token = _bearer(scope)
        key = await apikeys.authenticate(token) if token else None
        if key is None:
            return ANONYMOUS
        return Principal(api_key=key, tenant=await get_tenant(key.tenant_id), role=key.role)

    session: dict[str, Any] = scope.get("session") or {}
    user_id = session.get(sessions.USER_KEY) if isinstance(session, dict) else None
    if not user_id:
        return ANONYMOUS
    found = await accounts.session_user(int(user_id))
    if found is None or not found[0].is_active:
        session.clear()
        return ANONYMOUS
    user, stamp = found
    if not sessions.stamp_holds(session, stamp):  # the password changed since: sign in again
        sessions.sign_out(session)
        return ANONYMOUS
    memberships = await accounts.memberships(user.id)
    chosen = next((m for m in memberships if m.tenant_id == session.get(sessions.TENANT_KEY)), None)
    chosen = chosen or (memberships[0] if memberships else None)
    if chosen and session.get(sessions.TENANT_KEY) != chosen.tenant_id:
        session[sessions.TENANT_KEY] = chosen.tenant_id
    tenant = await get_tenant(chosen.tenant_id) if chosen else None
    return Principal(
        user=user,
        tenant=tenant,
        role=chosen.role if chosen else None,
        memberships=memberships,
    )


class PrincipalMiddleware(ASGIMiddleware):
    """Resolve the principal and hold its tenant in the context for the whole request."""

    scopes = (ScopeType.HTTP,)
    # Decided on the request path (Litestar 3 will match exclude patterns on handler paths).
    should_bypass_for_scope = staticmethod(
        lambda scope: scope["path"].startswith("/static/") or scope["path"] == "/health"
    )
    # Routes with no principal at all (the channels' webhooks: their tenant is the slug's).
    exclude_opt_key = "skip_principal"

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal = await resolve_principal(scope)
        scope.setdefault("state", {})["principal"] = principal
        tenant_token = set_tenant(principal.tenant.id if principal.tenant else None)
        actor_token = set_actor(principal.actor)
        try:
            await next_app(scope, receive, send)
        finally:
            reset_tenant(tenant_token)
            reset_actor(actor_token)


# -- guards -------------------------------------------------------------------------
# Plain functions of (connection, handler): Litestar calls them before the handler, and
# the idempotency middleware calls the same ones before it replays a stored response.
# Each role guard carries ``required_role`` (and ``credential``) so tests and docs can
# read a route's rule from the app itself (tests/test_role_matrix.py, docs/loyalty.md).


def staff_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not principal_of(connection).is_staff:
        raise NotAuthorizedException("sign in first")


def platform_admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    principal = principal_of(connection)
    if not principal.is_staff:
        raise NotAuthorizedException("sign in first")
    if not principal.is_platform_admin:
        raise PermissionDeniedException("platform administrators only")


def _check_tenant_status(
    connection: ASGIConnection, handler: BaseRouteHandler, tenant: TenantInfo
) -> None:
    """The shop's status may close the route (tenants.access: suspended = read-only...)."""
    access.check(tenant.status, method=connection.scope.get("method", "GET"), opt=handler.opt)


def role_required(role: Role):
    """Guard: a staff member (or API key) of the current tenant with at least ``role``,
    on a route the tenant's status allows (:func:`loyalchat.tenants.access.check`)."""

    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not (principal.is_staff or principal.api_key):
            raise NotAuthorizedException("sign in first" if not principal.api_key else "")
        if principal.tenant is None:
            raise PermissionDeniedException("you are not staff of any shop yet")
        if not principal.has_role(role):
            raise PermissionDeniedException(f"needs the {role.value} role")
        _check_tenant_status(connection, handler, principal.tenant)

    guard.__name__ = f"role_required_{role.value}"
    guard.required_role = role  # type: ignore[attr-defined]
    guard.credential = "staff"  # type: ignore[attr-defined]
    return guard


def api_key_required(role: Role):
    """Guard for ``/api`` routes: a valid, unrevoked key with ``role``, on a route the
    tenant's status allows (suspended: reads only; not yet approved: nothing)."""

    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.api_key is None:
            raise NotAuthorizedException("send a tenant API key as 'Authorization: Bearer ...'")
        if principal.tenant is None:  # the key's tenant is gone
            raise NotAuthorizedException("send a tenant API key as 'Authorization: Bearer ...'")
        if not principal.has_role(role):
            raise PermissionDeniedException(f"this API key needs the {role.value} role")
        _check_tenant_status(connection, handler, principal.tenant)

    guard.__name__ = f"api_key_required_{role.value}"
    guard.required_role = role  # type: ignore[attr-defined]
    guard.credential = "api_key"  # type: ignore[attr-defined]
    return guard


def route_guards(handler: BaseRouteHandler) -> list[Any]:
    """The guard functions of a route handler, every layer, as declared (Litestar wraps
    them in ``AsyncCallable``, which keeps the original as ``func``)."""
    return [getattr(guard, "func", guard) for guard in handler.resolve_guards()]


def required_role(handler: BaseRouteHandler) -> Role | None:
    """The tenant role a route handler's guards ask for (None: no tenant role guard).

    With several role guards (a controller's and a handler's), the strongest decides.
    """
    roles = [g.required_role for g in route_guards(handler) if hasattr(g, "required_role")]
    return max(roles, key=lambda role: role.rank) if roles else None

"""JSON API for integrations (``Authorization: Bearer <tenant API key>``). Thin: services rule."""

from __future__ import annotations

import json
from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import JSONBody, QueryParameter

from loyalchat.api_errors import FORBIDDEN, IDEMPOTENCY_ERRORS, NOT_FOUND, error_responses
from loyalchat.bounds import Offset, PathId
from loyalchat.idempotency.middleware import (
    IDEMPOTENCY_DEPENDENCIES,
    REPLAY_HEADERS,
    SECRET_RESPONSE,
    ServiceKey,
)
from loyalchat.tenants import accounts, apikeys, audit
from loyalchat.tenants.auth import api_key_required, principal_of
from loyalchat.tenants.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyOut,
    AuditOut,
    MeOut,
    StaffOut,
    TenantOut,
)
from loyalchat.tenants.tables import Role

API_KEY = {"tenant_object": "api_key"}


class TenantApiController(Controller):
    path = "/api/v1"
    tags = ("tenant",)
    security = ({"apiKey": []},)

    @get("/me", guards=[api_key_required(Role.cashier)], responses=error_responses())
    async def me(self, request: Request) -> MeOut:
        """The tenant and role this API key acts for."""
        principal = principal_of(request)
        tenant = principal.tenant
        assert tenant is not None and principal.api_key is not None and principal.role
        return MeOut(
            tenant=TenantOut(
                slug=tenant.slug,
                display_name=tenant.display_name,
                status=tenant.status,
                locale=tenant.locale,
                timezone=tenant.timezone,
                currency=tenant.currency,
            ),
            role=principal.role,
            api_key=principal.api_key.name,
        )

    @get("/api-keys", guards=[api_key_required(Role.manager)], responses=error_responses(FORBIDDEN))
    async def list_api_keys(self) -> list[ApiKeyOut]:
        """The tenant's API keys (never the keys themselves)."""
        return [ApiKeyOut(**row) for row in await apikeys.list_keys()]

    @get(
        "/api-keys/{key_id:int}",
        guards=[api_key_required(Role.manager)],
        opt=API_KEY,
        responses=error_responses(FORBIDDEN, NOT_FOUND),
    )
    async def get_api_key(self, key_id: PathId) -> ApiKeyOut:
        row = await apikeys.get_key(key_id)
        if row is None:
            raise NotFoundException()
        return ApiKeyOut(**row)

    @post(
        "/api-keys",
        guards=[api_key_required(Role.manager)],  # as the console: docs/loyalty.md, roles
        opt=SECRET_RESPONSE,
        dependencies=IDEMPOTENCY_DEPENDENCIES,
        response_headers=REPLAY_HEADERS,
        responses=error_responses(
            FORBIDDEN, (409, "secret_not_replayable", {"id": 12}), *IDEMPOTENCY_ERRORS
        ),
    )
    async def create_api_key(
        self, request: Request, data: JSONBody[ApiKeyCreate], service_key: ServiceKey
    ) -> ApiKeyIssued:
        """Create a key (manager role; never a stronger role than the calling key's own);
        the response is the only time the key is shown.

        With ``Idempotency-Key``, a repeat does not show the key again: it gets 409
        ``secret_not_replayable`` with the id of the key the first request made.
        """
        if not principal_of(request).has_role(data.role):  # the console's rule too
            raise PermissionDeniedException("a key cannot create a key stronger than itself")
        try:
            issued = await apikeys.create_key(data.name, data.role, idempotency_key=service_key)
        except apikeys.ApiKeyError as exc:
            raise ValidationException(str(exc)) from exc
        return ApiKeyIssued(id=issued.id, name=issued.name, role=issued.role.value, key=issued.key)

    @delete(
        "/api-keys/{key_id:int}",
        guards=[api_key_required(Role.manager)],
        opt=API_KEY,
        responses=error_responses(FORBIDDEN, NOT_FOUND),
    )
    async def revoke_api_key(self, key_id: PathId) -> None:
        """Revoke a key; it stops working at once."""
        if not await apikeys.revoke_key(key_id):
            raise NotFoundException()

    @get("/staff", guards=[api_key_required(Role.manager)], responses=error_responses(FORBIDDEN))
    async def list_staff(self) -> list[StaffOut]:
        rows = await accounts.staff_of_current_tenant()
        return [
            StaffOut(
                user_id=r["user_id"],
                email=r["email"],
                display_name=r["display_name"],
                role=r["role"],
            )
            for r in rows
        ]

    @get(
        "/audit-log", guards=[api_key_required(Role.manager)], responses=error_responses(FORBIDDEN)
    )
    async def audit_log(
        self,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> list[AuditOut]:
        """Newest first."""
        rows = await audit.recent(limit=limit, offset=offset)
        return [
            AuditOut(
                id=r["id"],
                actor=r["actor"],
                actor_label=r["actor_label"],
                action=r["action"],
                target=r["target"],
                before=_as_dict(r["before"]),
                after=_as_dict(r["after"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]


def _as_dict(value: object) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)  # type: ignore[arg-type]

"""API keys for integrations: list, create (the key is shown once), revoke."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.bounds import PathId
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.tenants import apikeys
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.tables import Role

API_KEY = {"tenant_object": "api_key"}
MANAGER = (role_required(Role.manager),)


def _grantable(request: Request) -> list[Role]:
    """Roles a key may have: never more than the person creating it."""
    principal = principal_of(request)
    return [role for role in Role if principal.has_role(role)]


async def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/api_keys.html",
        context={
            "keys": await apikeys.list_keys(),
            "roles": _grantable(request),
            "form": form or {"name": "", "role": Role.manager.value},
            "errors": errors or {},
        },
        status_code=status_code,
    )


class ApiKeysController(Controller):
    path = "/console/api-keys"
    include_in_schema = False
    guards = MANAGER

    @get("/")
    async def list_keys(self, request: Request) -> Template:
        return await _page(request)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        name = form.get("name", "").strip()
        role_value = form.get("role", "")
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = i18n.gettext(request, N_("Give the key a name."))
        elif len(name) > 100:
            errors["name"] = i18n.gettext(request, N_("At most 100 characters."))
        allowed = {role.value: role for role in _grantable(request)}
        if role_value not in allowed:
            errors["role"] = i18n.gettext(request, N_("Choose one of the roles listed."))
        if errors:
            return await _page(
                request,
                form={"name": name, "role": role_value},
                errors=errors,
                status_code=HTTP_400_BAD_REQUEST,
            )
        principal = principal_of(request)
        issued = await apikeys.create_key(
            name, allowed[role_value], created_by=principal.user.id if principal.user else None
        )
        return Template(
            "console/api_key_created.html",
            context={"issued": issued},
            status_code=HTTP_201_CREATED,
            headers={"cache-control": "no-store"},
        )

    @post("/{key_id:int}/revoke", opt=API_KEY, status_code=303)
    async def revoke(self, request: Request, key_id: PathId) -> Redirect:
        if not await apikeys.revoke_key(key_id):
            raise NotFoundException()
        ui.flash(request, N_("The key was revoked. It no longer works."), "success")
        return Redirect("/console/api-keys", status_code=303)

"""JSON API for a tenant's plugins: list, read, enable/disable and save settings.

``Authorization: Bearer <tenant API key>``. Thin: :mod:`loyalchat.tenants.plugin_settings`
validates, encrypts secrets and writes the audit log. Secrets are never returned: a secret
field's ``value`` is masked (``••••••••1234``) and ``is_set`` says whether one is stored.
A plugin is addressed by name; an unknown, blocked or not offered name is 404, never a hint.
"""

from __future__ import annotations

from typing import Any

import pluggy
from litestar import Controller, Request, get, put
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, JSONBody

from loyalchat.api_errors import FORBIDDEN, NOT_FOUND, error_responses
from loyalchat.extensions.tenant_plugins import get_tenant_plugins
from loyalchat.tenants import plugin_access
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.schemas import PluginFieldOut, PluginOut, PluginUpdate
from loyalchat.tenants.tables import Role

# The path holds a plugin *name*, not a row id: the isolation harness plants a
# ``tenant_plugin`` row in another tenant and checks the route answers 403/404.
PLUGIN = {"tenant_object": "tenant_plugin"}


def plugin_manager(request: Request) -> pluggy.PluginManager:
    """The app's plugin manager, built by ``create_app()`` (tests may put their own in
    ``app.state.plugins``)."""
    return request.app.state.plugins


async def known_plugin(pm: pluggy.PluginManager, plugin: str) -> str:
    """``plugin`` when the platform offers it to tenants; 404 for unknown, blocked or
    withdrawn names."""
    if plugin not in get_tenant_plugins(pm) or not await plugin_access.is_available(plugin, pm):
        raise NotFoundException()
    return plugin


def plugin_out(state: ps.PluginState) -> PluginOut:
    return PluginOut(
        plugin=state.plugin,
        enabled=state.enabled,
        configured=state.configured,
        missing=list(state.missing),
        fields=[
            PluginFieldOut(
                name=item.name,
                label=item.label,
                required=item.required,
                secret=item.secret,
                help=item.help,
                value=state.values.get(item.name, ""),
                is_set=bool(state.values.get(item.name)),
            )
            for item in state.fields
        ],
    )


def _invalid(exc: ps.PluginSettingsError, prefix: str) -> ValidationException:
    extra: list[dict[str, Any]] = [
        {"key": f"{prefix}.{name}" if prefix else name, "message": problem, "source": "body"}
        for name, problem in sorted(exc.errors.items())
    ]
    return ValidationException(str(exc), extra=extra)


class PluginApiController(Controller):
    path = "/api/v1/plugins"
    tags = ("plugins",)
    security = ({"apiKey": []},)

    @get("/", guards=[api_key_required(Role.manager)], responses=error_responses(FORBIDDEN))
    async def list_plugins(self, request: Request) -> list[PluginOut]:
        """Every plugin this tenant can enable, with its state; secrets masked."""
        states = await ps.list_plugin_states(plugin_manager(request))
        return [plugin_out(state) for state in states]

    @get(
        "/{plugin:str}",
        guards=[api_key_required(Role.manager)],
        opt=PLUGIN,
        responses=error_responses(FORBIDDEN, NOT_FOUND),
    )
    async def get_plugin(self, request: Request, plugin: FromPath[str]) -> PluginOut:
        pm = plugin_manager(request)
        return plugin_out(await ps.get_plugin_state(await known_plugin(pm, plugin), pm))

    @put(
        "/{plugin:str}",
        guards=[api_key_required(Role.owner)],
        opt=PLUGIN,
        responses=error_responses(FORBIDDEN, NOT_FOUND),
    )
    async def update_plugin(
        self, request: Request, plugin: FromPath[str], data: JSONBody[PluginUpdate]
    ) -> PluginOut:
        """Save ``settings`` (an empty secret keeps the stored one), then set ``enabled``.

        400 with per-field errors (``extra[].key`` is ``settings.<field>``); enabling a
        plugin whose required settings are missing is refused the same way.
        """
        pm = plugin_manager(request)
        await known_plugin(pm, plugin)
        state = None
        if data.settings is not None:
            try:
                state = await ps.update_settings(plugin, data.settings, pm)
            except ps.PluginSettingsError as exc:
                raise _invalid(exc, "settings") from exc
        if data.enabled is not None:
            try:
                state = await ps.set_enabled(plugin, data.enabled, pm)
            except ps.PluginSettingsError as exc:
                raise _invalid(exc, "settings") from exc
        return plugin_out(state or await ps.get_plugin_state(plugin, pm))

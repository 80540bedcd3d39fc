"""The console's plugin page: which plugins the shop uses, and their settings.

Managers see the page; only the owner changes anything (as in the JSON API, where saving
needs an owner key). A plugin is addressed by name: unknown or blocked names are 404.
Secrets are never sent back to the browser, only their masked form; an empty secret
field keeps the stored secret. The service validates, encrypts and audits.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.extensions import plugin_info
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.plugin_controllers import PLUGIN, known_plugin, plugin_manager
from loyalchat.tenants.tables import Role

MANAGER = (role_required(Role.manager),)
OWNER = [role_required(Role.owner)]

# The service's problem codes, as the page shows them.
PROBLEMS = {
    "required": N_("Fill this in."),
    "unknown setting": N_("This plugin has no such setting."),
    "must be text": N_("Enter text."),
}
OTHER_PROBLEM = N_("Check this value.")
REQUIRED_TO_ENABLE = N_("Fill this in before turning the plugin on.")


def _problem(request: Request, problem: str) -> str:
    return i18n.gettext(request, PROBLEMS.get(problem, OTHER_PROBLEM))


def _can_edit(request: Request) -> bool:
    return principal_of(request).has_role(Role.owner)


def _about(request: Request, names: list[str]) -> dict[str, dict[str, Any]]:
    """Plugin name -> its title and summary in the reader's language, and what it adds."""
    pm = plugin_manager(request)
    locale = i18n.locale_of(request)
    adds = plugin_info.provides(pm, locale)
    return {
        name: {"text": plugin_info.describe(pm, name, locale), "provides": adds.get(name, [])}
        for name in names
    }


async def _detail(
    request: Request,
    state: ps.PluginState,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/plugins_detail.html",
        context={
            "state": state,
            "about": _about(request, [state.plugin]),
            "form": form or {},
            "errors": errors or {},
            "can_edit": _can_edit(request),
        },
        status_code=status_code,
    )


class PluginsController(Controller):
    path = "/console/plugins"
    include_in_schema = False
    guards = MANAGER

    @get("/")
    async def list_plugins(self, request: Request) -> Template:
        states = await ps.list_plugin_states(plugin_manager(request))
        return Template(
            "console/plugins.html",
            context={
                "states": states,
                "about": _about(request, [state.plugin for state in states]),
                "can_edit": _can_edit(request),
            },
        )

    @get("/{plugin:str}", opt=PLUGIN)
    async def show(self, request: Request, plugin: FromPath[str]) -> Template:
        pm = plugin_manager(request)
        state = await ps.get_plugin_state(await known_plugin(pm, plugin), pm)
        return await _detail(request, state)

    @post("/{plugin:str}/settings", guards=OWNER, opt=PLUGIN, status_code=303)
    async def save_settings(self, request: Request, plugin: FromPath[str]) -> Response[Any]:
        pm = plugin_manager(request)
        await known_plugin(pm, plugin)
        state = await ps.get_plugin_state(plugin, pm)
        form = await ui.form_data(request)
        values = {item.name: form.get(item.name, "") for item in state.fields}
        try:
            await ps.update_settings(plugin, values, pm)
        except ps.PluginSettingsError as exc:
            echo = {item.name: values[item.name] for item in state.fields if not item.secret}
            errors = {name: _problem(request, problem) for name, problem in exc.errors.items()}
            return await _detail(
                request, state, form=echo, errors=errors, status_code=HTTP_400_BAD_REQUEST
            )
        title = plugin_info.describe(pm, plugin, i18n.locale_of(request)).title
        ui.flash(request, N_("Settings for %(plugin)s saved."), "success", plugin=title)
        return Redirect(f"/console/plugins/{plugin}", status_code=303)

    @post("/{plugin:str}/enabled", guards=OWNER, opt=PLUGIN, status_code=303)
    async def set_enabled(self, request: Request, plugin: FromPath[str]) -> Response[Any]:
        pm = plugin_manager(request)
        await known_plugin(pm, plugin)
        form = await ui.form_data(request)
        enabled = form.get("enabled") == "1"
        try:
            await ps.set_enabled(plugin, enabled, pm)
        except ps.PluginSettingsError as exc:
            state = await ps.get_plugin_state(plugin, pm)
            errors = {name: i18n.gettext(request, REQUIRED_TO_ENABLE) for name in exc.errors}
            return await _detail(request, state, errors=errors, status_code=HTTP_400_BAD_REQUEST)
        message = N_("%(plugin)s is on.") if enabled else N_("%(plugin)s is off.")
        title = plugin_info.describe(pm, plugin, i18n.locale_of(request)).title
        ui.flash(request, message, "success", plugin=title)
        return Redirect(ui.safe_next(form.get("next"), "/console/plugins"), status_code=303)

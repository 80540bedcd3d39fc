"""The application factory. Nothing happens at import; ``create_app()`` wires everything."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

import pluggy
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin

from loyalchat import db
from loyalchat.errors import EXCEPTION_HANDLERS
from loyalchat.headers import security_headers_hook
from loyalchat.health import health, ready
from loyalchat.inputguard import InputGuardMiddleware
from loyalchat.log import access_logged, configure_logging
from loyalchat.openapi_inputs import StrictInputSchemaPlugin
from loyalchat.pluginmanager import (
    build_plugin_manager,
    install_plugin_manager,
    plugin_asset_dirs,
    uninstall_plugin_manager,
    use_plugin_manager,
)
from loyalchat.settings import Settings, get_settings

CSRF_COOKIE = "lc_csrf"
# Regular expressions that Litestar searches for anywhere in the path (re.findall), so each
# is anchored: a console path that merely contains "/api/" or "/health" still needs the token.
CSRF_EXEMPT = ["^/api/", "^/hooks/", "^/health$", "^/ready$", "^/schema(/|$)"]


def create_app(
    settings: Settings | None = None,
    *,
    run_workers: bool | None = None,
    plugins: pluggy.PluginManager | None = None,
) -> Litestar:
    """Build the web application.

    ``run_workers``: start the embedded queue worker and scheduler with the app (default:
    when no Redis is configured, i.e. the one-machine default of ``loyalchat serve``).
    ``plugins``: the plugin manager to use (default: one built from ``settings``). It is
    ``app.state.plugins`` and the current manager of every request and embedded task.
    """
    from loyalchat.conversations import webhooks
    from loyalchat.conversations.hookserver import webhooks_first
    from loyalchat.conversations.inbound import register_channel_handlers
    from loyalchat.frontend import web
    from loyalchat.idempotency.middleware import IdempotencyMiddleware
    from loyalchat.ledger.controllers import MemberLedgerApiController
    from loyalchat.members.controllers import MemberApiController
    from loyalchat.purchases.controllers import MemberPurchasesApiController
    from loyalchat.receipts.controllers import MemberReceiptsApiController
    from loyalchat.rewards.controllers import (
        GrantApiController,
        MemberRedemptionApiController,
        RewardApiController,
    )
    from loyalchat.tenants.auth import PrincipalMiddleware
    from loyalchat.tenants.controllers import TenantApiController
    from loyalchat.tenants.plugin_controllers import PluginApiController
    from loyalchat.tenants.sessions import make_stores, session_config
    from loyalchat.tenants.throttle import make_throttle

    settings = settings or get_settings()
    settings.fernet_keys()  # refuse to start with an unusable key file (the secret: below)
    configure_logging(settings)
    db.configure_database(settings)
    pm = plugins or build_plugin_manager(settings)
    register_channel_handlers(pm)  # inbox events of every channel, third parties' too
    embedded = settings.embedded_queue if run_workers is None else run_workers

    plugin_routes: list[Any] = []
    for contributed in pm.hook.register_routes():
        plugin_routes.extend(contributed or [])

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from loyalchat.tasks import runtime

        await db.start_pool(settings=settings)
        if embedded:  # the embedded worker's threads run tasks with the app's manager
            install_plugin_manager(pm)
        runtime.start(settings, embedded=embedded)
        app.state.broker_kind = runtime.broker_kind()
        # Everything made so far (modules, routes, plugins, templates) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it. It
        # took 115 ms in each web process, every few seconds under load: the webhook
        # ingest's p99 went from 51-138 ms to 17 ms with this (bench/channels.py). Once per
        # process: a process that builds many apps (the tests) keeps collecting the rest.
        if not gc.get_freeze_count():
            gc.freeze()
        try:
            yield
        finally:
            await runtime.stop()
            if embedded:
                uninstall_plugin_manager(pm)
            await db.close_pool()

    app = Litestar(
        route_handlers=[
            health,
            ready,
            TenantApiController,
            PluginApiController,
            MemberApiController,
            MemberLedgerApiController,
            MemberPurchasesApiController,
            MemberReceiptsApiController,
            RewardApiController,
            MemberRedemptionApiController,
            GrantApiController,
            *webhooks.route_handlers(),
            *web.route_handlers(),
            *web.plugin_static_routers(plugin_asset_dirs(pm, "static")),
            *plugin_routes,
        ],
        lifespan=[lifespan],
        middleware=[
            InputGuardMiddleware(),  # before anything reads the path, query or body
            session_config(settings).middleware,
            PrincipalMiddleware(),
            IdempotencyMiddleware(),
        ],
        stores=make_stores(settings),
        csrf_config=CSRFConfig(
            secret=settings.secret(),
            cookie_name=CSRF_COOKIE,
            header_name="x-csrftoken",
            cookie_secure=settings.cookies_secure,
            cookie_samesite="lax",
            exclude=CSRF_EXEMPT,
        ),
        template_config=web.template_config(plugin_asset_dirs(pm, "templates").values()),
        plugins=[HTMXPlugin(), StrictInputSchemaPlugin()],  # request bodies as decoded
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_send=[security_headers_hook(settings)],
        openapi_config=OpenAPIConfig(
            title="loyalchat API",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A tenant API key, created in the console.",
                    )
                }
            ),
        ),
        state=State({"settings": settings, "throttle": make_throttle(settings), "plugins": pm}),
        debug=False,
    )
    # Outside the router and the app's exception handlers, so the access log sees every
    # request and the status actually sent (loyalchat.log.access_logged).
    # The webhook routes are answered before the router (conversations.hookserver).
    app.asgi_handler = access_logged(with_plugins(pm, webhooks_first(pm, app.asgi_handler)))
    return app


def with_plugins(pm: pluggy.PluginManager, handler: Any) -> Any:
    """Wrap the ASGI handler so every request runs with ``pm`` as the current manager."""

    async def handle(scope: Any, receive: Any, send: Any) -> None:
        with use_plugin_manager(pm):
            await handler(scope, receive, send)

    return handle

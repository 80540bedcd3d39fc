"""Webhook routes of every chat channel: verify, store, answer at once.

``/hooks/<kind>/<slug>`` is a shop's own app or account; ``/hooks/whatsapp`` is the
platform's own Meta app, whose events name the shop's number (``phone_number_id``) and are
routed through :class:`~loyalchat.conversations.tables.ChannelAccount`. Either way a
request is verified by the channel's adapter over the raw bytes before anything is read,
each event is stored in the inbox (its unique index makes a provider's retry a no-op) and
the provider gets its answer (a handshake echo, ``success``) without waiting for the bot:
an inbox actor does the rest (:mod:`loyalchat.conversations.inbound`).

The slug (or the number) is the only source of the tenant, and an unknown slug, an unknown
channel or a channel the shop does not use are all the same 404, with nothing stored.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pluggy
import structlog
from litestar import Request, Response, route
from litestar.params import FromPath

from loyalchat.context import tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.events import to_payload
from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import ChannelAdapter, InboundEvent, ParsedRequest, get_channels
from loyalchat.inbox.service import record_inbound
from loyalchat.settings import get_settings
from loyalchat.tenants import plugin_access
from loyalchat.tenants.plugin_access import webhook_channel
from loyalchat.tenants.plugin_settings import PluginSettingsError, runtime_settings
from loyalchat.tenants.service import SLUG_RE, get_tenant_by_slug
from loyalchat.tenants.tables import TenantStatus

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # far above any provider's batch; larger answers 413
# Public by signature: no session or key; the isolation harness skips these routes and
# tests/test_webhooks_*.py prove a request reaches its own tenant and no other. Litestar's
# opt keys take them out of the middleware a provider's request never needs: the session
# (``skip_session``), the CSRF check (``exclude_from_csrf``) and the console's principal
# (``skip_principal``, tenants.auth: these routes set their tenant from the slug or number).
# The input guard (NUL and deep JSON, before the body is stored) and the access log stay.
WEBHOOK = {
    "isolation": "public",
    "auth": "webhook-signature",
    "skip_session": True,
    "exclude_from_csrf": True,
    "skip_principal": True,
}
# Shops whose channels are live: a suspended shop's customers still get a polite answer.
LIVE = frozenset({TenantStatus.active.value, TenantStatus.suspended.value})
PLATFORM_KIND = "whatsapp"  # the channel of the platform's own app


@dataclass(frozen=True, slots=True)
class _Target:
    """A shop's channel as its webhook route needs it: looked up once, used for a while."""

    pm: pluggy.PluginManager
    tenant_id: int
    adapter: ChannelAdapter
    config: Mapping[str, Any]
    at: float
    access: object  # plugin_access's cache entry of the tenant when this was read


# (kind, slug), or ("@account", phone_number_id) on the platform's app -> the live shop's
# channel. The lookups (shop by slug, is the channel on,
# its decrypted settings) were five statements and a decryption on every webhook: most of
# a request's time under load (bench/channels.py). They are kept as long as plugin_access
# keeps its own reads (CACHE_SECONDS), and dropped at once in this process when that cache
# drops the tenant's entry (every change made through plugin_settings does): another
# process sees a changed secret, a channel turned off or a closed shop within that time,
# as it already does for a plugin turned off. Only found targets are kept (a flood of
# unknown slugs costs what it did and fills nothing).
_targets: dict[tuple[str, str], _Target] = {}
MAX_TARGETS = 10_000


def forget_targets() -> None:
    """Drop every cached webhook target (tests that change a shop's status in place)."""
    _targets.clear()


async def _target(kind: str, slug: str, pm: pluggy.PluginManager) -> _Target | None:
    """Shop ``slug``'s channel ``kind`` (its own app or account), if live and on."""

    async def shop() -> int | None:
        tenant = await get_tenant_by_slug(slug)
        return tenant.id if tenant is not None and tenant.status in LIVE else None

    return await _cached((kind, slug), kind, shop, pm)


async def _platform_target(account: str, pm: pluggy.PluginManager) -> _Target | None:
    """The shop holding ``account`` (a ``phone_number_id``) on the platform's Meta app."""

    async def holder() -> int | None:
        tenant_id = await service.tenant_for_account(PLATFORM_KIND, account)
        live = tenant_id is not None and await service.tenant_is_live(tenant_id)
        return tenant_id if live else None

    return await _cached(("@account", account), PLATFORM_KIND, holder, pm)


async def _cached(
    key: tuple[str, str],
    kind: str,
    live_tenant: Callable[[], Awaitable[int | None]],
    pm: pluggy.PluginManager,
) -> _Target | None:
    found = _targets.get(key)
    if (
        found is not None
        and found.pm is pm
        and time.monotonic() - found.at < plugin_access.CACHE_SECONDS
        and plugin_access._tenants.get(found.tenant_id) is found.access
    ):
        return found
    tenant_id = await live_tenant()
    if tenant_id is None:
        _targets.pop(key, None)
        return None
    with tenant_context(tenant_id):
        adapter = await webhook_channel(kind, pm)
        if adapter is None:
            _targets.pop(key, None)
            return None
        access = plugin_access._tenants.get(tenant_id)
        try:
            config = await runtime_settings(get_channels(pm).owner(kind), pm)
        except PluginSettingsError:  # withdrawn by the platform meanwhile: not found
            _targets.pop(key, None)
            return None
    if len(_targets) >= MAX_TARGETS:
        _targets.clear()
    found = _Target(pm, tenant_id, adapter, MappingProxyType(config), time.monotonic(), access)
    _targets[key] = found
    return found


@dataclass(frozen=True, slots=True)
class Answer:
    """What a webhook request gets, whichever server path carried it."""

    status: int
    body: str | bytes
    content_type: str = "text/plain"


NOT_FOUND = Answer(404, "not found")
TRY_LATER = Answer(503, "try again later")  # the provider retries; nothing half-done
# Reads the request once its target is known (an unknown slug's body is never read): the
# framework-free request, or the answer refusing it (a body over the cap, a NUL).
Reader = Callable[[], Awaitable[InboundRequest | Answer]]


async def answer_shop(kind: str, slug: str, pm: pluggy.PluginManager, read: Reader) -> Answer:
    """A shop's own app or account for channel ``kind``: verify, store, answer."""
    if not SLUG_RE.match(slug) or len(kind) > 32:
        return NOT_FOUND
    try:
        target = await _target(kind, slug, pm)
    except Exception:  # the database, or stored secrets the configured keys cannot read
        log.error("webhook_target_error", channel=kind, slug=slug, exc_info=True)
        return TRY_LATER  # nothing was stored
    if target is None:
        return NOT_FOUND
    with tenant_context(target.tenant_id):
        incoming = await read()
        if isinstance(incoming, Answer):
            return incoming
        parsed = await _verified_parse(target.adapter, incoming, target.config)
        if isinstance(parsed, Answer):
            return parsed
        try:
            await store_events(kind, parsed.events)
        except Exception:
            log.error("webhook_store_error", channel=kind, tenant=target.tenant_id, exc_info=True)
            return TRY_LATER
    return _answer(parsed)


async def answer_platform(pm: pluggy.PluginManager, read: Reader) -> Answer:
    """The platform's own Meta app: each event goes to the shop whose number it names."""
    adapter = get_channels(pm).get(PLATFORM_KIND)
    if adapter is None or not get_settings().whatsapp_app_secret.get_secret_value():
        return NOT_FOUND
    incoming = await read()
    if isinstance(incoming, Answer):
        return incoming
    parsed = await _verified_parse(adapter, incoming, platform_config(adapter))
    if isinstance(parsed, Answer):
        return parsed
    by_account: dict[str, list[InboundEvent]] = defaultdict(list)
    for event in parsed.events:
        by_account[event.account].append(event)
    try:
        await asyncio.gather(
            *(_route_platform_events(account, events, pm) for account, events in by_account.items())
        )
    except Exception:
        log.error("webhook_store_error", channel=PLATFORM_KIND, exc_info=True)
        return TRY_LATER
    return _answer(parsed)


async def _verified_parse(
    adapter: ChannelAdapter, incoming: InboundRequest, config: Mapping[str, Any]
) -> ParsedRequest | Answer:
    """The adapter's parse of a request it verified, or the answer refusing it."""
    try:
        verified = await adapter.verify(incoming, config)
    except Exception:
        log.warning("webhook_verify_error", channel=adapter.kind, exc_info=True)
        verified = False
    if not verified:
        log.info("webhook_unverified", channel=adapter.kind, path=incoming.path)
        return Answer(401, "signature check failed")
    try:
        return await adapter.parse(incoming, config)
    except Exception:
        log.warning("webhook_parse_error", channel=adapter.kind, exc_info=True)
        return Answer(400, "unreadable request")


async def store_events(kind: str, events: list[InboundEvent]) -> int:
    """Record each usable event for the current tenant; returns how many were new.

    The events of one body are recorded together (one batch of the inbox on PostgreSQL)."""
    usable = [event for event in events if event.provider_id and (event.sender or event.ref)]
    # (An event with nothing to key it on or nobody to answer is a provider's empty entry.)
    results = await asyncio.gather(
        *(record_inbound(kind, e.provider_id[:255], to_payload(e)) for e in usable),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return sum(int(new) for _, new in results)  # type: ignore[misc]


def _answer(parsed: ParsedRequest) -> Answer:
    return Answer(parsed.status_code, parsed.reply, parsed.content_type or "text/plain")


def platform_config(adapter: ChannelAdapter) -> dict[str, str]:
    """The platform's Meta app as a WhatsApp config: its app secret and verify token."""
    settings = get_settings()
    config = {field.name: "" for field in adapter.config_fields}
    config["app_secret"] = settings.whatsapp_app_secret.get_secret_value()
    config["verify_token"] = settings.whatsapp_verify_token.get_secret_value()
    config["access_token"] = settings.whatsapp_access_token.get_secret_value()
    return config


async def _route_platform_events(
    account: str, events: list[InboundEvent], pm: pluggy.PluginManager
) -> None:
    target = await _platform_target(account, pm) if account else None
    if target is None:
        log.warning("webhook_unknown_account", channel=PLATFORM_KIND, account=account[:64])
        return
    with tenant_context(target.tenant_id):
        await store_events(PLATFORM_KIND, events)


# -- the routes as Litestar sees them -----------------------------------------------------
# Registered for the route table, the docs and the isolation harness. A request matching
# them exactly is answered before Litestar's router by conversations.hookserver (the same
# functions above, less framework per webhook); these handlers answer the rest.


def _response(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


def inbound_request(request: Request, body: bytes) -> InboundRequest:
    """The framework-free request the adapters verify (header names lower-cased)."""
    return InboundRequest(
        method=request.method,
        path=request.url.path,
        headers={name.lower(): value for name, value in request.headers.items()},
        query={name: value for name, value in request.query_params.items()},
        body=body,
    )


def _reader(request: Request) -> Reader:
    async def read() -> InboundRequest | Answer:
        try:
            body = await request.body()
        except Exception as exc:  # a cut connection, a body over the cap
            status = getattr(exc, "status_code", 400)
            return Answer(status if status in (400, 413) else 400, "request body refused")
        return inbound_request(request, body)

    return read


@route(
    "/hooks/{kind:str}/{slug:str}",
    http_method=["GET", "POST"],
    opt=WEBHOOK,
    request_max_body_size=MAX_BODY_BYTES,
    include_in_schema=False,
)
async def tenant_webhook(kind: FromPath[str], slug: FromPath[str], request: Request) -> Response:
    """A shop's own app or account for channel ``kind``: verify, store, answer."""
    return _response(await answer_shop(kind, slug, request.app.state.plugins, _reader(request)))


@route(
    "/hooks/whatsapp",
    http_method=["GET", "POST"],
    opt=WEBHOOK,
    request_max_body_size=MAX_BODY_BYTES,
    include_in_schema=False,
)
async def platform_webhook(request: Request) -> Response:
    """The platform's own Meta app: each event goes to the shop whose number it names."""
    return _response(await answer_platform(request.app.state.plugins, _reader(request)))


def route_handlers() -> list[Any]:
    """The webhook routes, for ``create_app``."""
    return [platform_webhook, tenant_webhook]

"""Shared pieces of the conversation tests (this module holds no tests).

``SignChat`` is a complete channel adapter of a made-up provider, registered by a test
plugin like a third party's: webhooks are JSON signed with HMAC-SHA256 over the raw body
(``x-signature``), a GET handshake echoes ``challenge`` when ``token`` is the shop's
secret, and sends are answered from a script of outcomes (a provider saying "slow down",
"window closed"...). It implements the protocol for real; nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pluggy
import pytest
from dramatiq.brokers.stub import StubBroker
from litestar import Litestar

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import (
    Capability,
    ChannelError,
    EventKind,
    InboundEvent,
    Media,
    OutboundMessage,
    ParsedRequest,
    SendResult,
)
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import (
    build_plugin_manager,
    install_plugin_manager,
    uninstall_plugin_manager,
)
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import plugin_settings
from tests.fixtures import World
from tests.test_tasks_support import drain, fresh_stub_broker

KIND = "signchat"
PLUGIN = "signchat_plugin"
SECRETS = {"alpha-tea": "alpha-secret", "bravo-bakery": "bravo-secret"}


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class SignChat:
    kind: str = KIND
    label: str = "Sign chat"
    config_fields: tuple = (
        SettingField("account_id", "Account id", required=True),
        SettingField("secret", "Webhook secret", required=True, secret=True),
        SettingField("template_name", "Template"),
        SettingField("rate_per_second", "Rate"),
    )
    capabilities: frozenset = frozenset(
        {Capability.text, Capability.image, Capability.choices, Capability.receive_images}
    )
    window_hours: int = 24
    sent: list[tuple[OutboundMessage, str]] = field(default_factory=list)
    script: list[BaseException] = field(default_factory=list)  # raised by the next sends
    media: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)  # media ids downloaded, in order
    send_delay: float = 0.0  # seconds each send takes (a slow provider)

    async def verify(self, request: InboundRequest, config: Mapping[str, Any]) -> bool:
        # A shop's own secret, or (the platform's own app) the platform's app secret.
        secret = str(config.get("secret") or config.get("app_secret") or "")
        if not secret:
            return False
        if request.method == "GET":
            return hmac.compare_digest(request.query.get("token", ""), secret)
        expected = sign(request.body, secret)
        return hmac.compare_digest(request.header("x-signature"), expected)

    async def parse(self, request: InboundRequest, config: Mapping[str, Any]) -> ParsedRequest:
        if request.method == "GET":
            return ParsedRequest([], reply=request.query.get("challenge", "").encode())
        document = json.loads(request.body or b"{}")
        events = []
        for item in document.get("events", []) if isinstance(document, dict) else []:
            if not isinstance(item, dict):
                continue
            kind = item.get("kind", "text")
            raw = {}
            if kind not in {k.value for k in EventKind}:
                raw, kind = {"unsupported": str(kind)}, "text"
            events.append(
                InboundEvent(
                    kind=EventKind(kind),
                    provider_id=str(item.get("id", "")),
                    sender=str(item.get("from", "")),
                    text=str(item.get("text", "")) if not raw else "",
                    media_id=str(item.get("media_id", "")),
                    choice_id=str(item.get("choice_id", "")),
                    status=str(item.get("status", "")),
                    ref=str(item.get("ref", "")),
                    profile_name=str(item.get("name", "")),
                    account=str(item.get("account", config.get("account_id", ""))),
                    raw=raw,
                )
            )
        return ParsedRequest(events, reply=b"ok")

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        if self.script:
            raise self.script.pop(0)
        self.sent.append((message, str(config.get("account_id", ""))))
        return SendResult(provider_id=f"sc-{len(self.sent)}-{message.key}")

    async def fetch_media(self, media_id: str, config: Mapping[str, Any]) -> Media:
        self.fetched.append(media_id)
        if media_id not in self.media:
            raise ChannelError("no such media", code="404")
        return Media(self.media[media_id], "image/png")

    async def join_link(self, join_code: str, config: Mapping[str, Any]) -> str:
        return f"https://sign.chat/{config['account_id']}?text={join_code}"


class SignChatPlugin:
    def __init__(self) -> None:
        self.adapter = SignChat()
        self.receipts: list[dict[str, Any]] = []
        self.take_receipts = False

    @hookimpl
    def register_channels(self, register) -> None:
        register(self.adapter)

    @hookimpl
    def receipt_received(
        self,
        tenant_id: int,
        member_id: int | None,
        conversation_id: int,
        media_key: str,
        inbound_message_id: int,
    ) -> object | None:
        self.receipts.append(
            {
                "tenant_id": tenant_id,
                "member_id": member_id,
                "conversation_id": conversation_id,
                "media_key": media_key,
                "inbound_message_id": inbound_message_id,
            }
        )
        return inbound_message_id if self.take_receipts else None


class PlatformAppPlugin:
    """The same made-up provider as the platform's own app (kind ``whatsapp``): one
    webhook for many shops' accounts, routed by the event's ``account``."""

    def __init__(self) -> None:
        # A shop on the platform's app has no secret of its own: nothing is required.
        self.adapter = SignChat(kind="whatsapp", config_fields=(SettingField("account_id", "Id"),))

    @hookimpl
    def register_channels(self, register) -> None:
        register(self.adapter)


def build(**extra: object) -> tuple[pluggy.PluginManager, SignChatPlugin]:
    """A plugin manager with the test channel (and ``extra`` plugins) and no entry points:
    the channel plugins written alongside are not loaded half-done."""
    plugin = SignChatPlugin()
    pm = build_plugin_manager(load_entrypoints=False, plugins={PLUGIN: plugin, **extra})
    return pm, plugin


@contextmanager
def installed(pm: pluggy.PluginManager) -> Iterator[pluggy.PluginManager]:
    """``pm`` as this process's manager (services called directly, the embedded worker)."""
    install_plugin_manager(pm)
    try:
        yield pm
    finally:
        uninstall_plugin_manager(pm)


async def connect(pm: pluggy.PluginManager, tenant_id: int, slug: str, **config: str) -> None:
    """Turn the test channel on for a tenant with its secret and account id."""
    values = {"account_id": f"acct-{slug}", "secret": SECRETS.get(slug, "s3cret"), **config}
    with tenant_context(tenant_id, Actor("system")):
        await plugin_settings.update_settings(PLUGIN, values, pm)
        await plugin_settings.enable_plugin(PLUGIN, pm)


def app_for(pm: pluggy.PluginManager) -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False, plugins=pm)


def body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def text_event(n: int | str, text: str = "hello", sender: str = "u1", **more: Any) -> dict:
    return {"id": f"m-{n}", "from": sender, "kind": "text", "text": text, **more}


def signed(payload: bytes, slug: str = "alpha-tea") -> dict[str, str]:
    return {"x-signature": sign(payload, SECRETS[slug]), "content-type": "application/json"}


# -- fixtures (import them into a test module: ``from ... import chat, stub_broker``) -----


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@dataclass
class Chat:
    """Two shops with the test channel on, the app, and a paused in-process worker."""

    pm: pluggy.PluginManager
    plugin: SignChatPlugin
    app: Litestar
    worker: EmbeddedWorker
    a: World
    b: World

    @property
    def adapter(self) -> SignChat:
        return self.plugin.adapter


@pytest.fixture
async def chat(tenant_a: World, tenant_b: World, stub_broker: StubBroker) -> AsyncIterator[Chat]:
    pm, plugin = build(platform_app=PlatformAppPlugin())
    with installed(pm):
        register_channel_handlers(pm)
        await connect(pm, tenant_a.id, "alpha-tea")
        await connect(pm, tenant_b.id, "bravo-bakery")
        worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
        try:
            yield Chat(pm, plugin, app_for(pm), worker, tenant_a, tenant_b)
        finally:
            worker.stop()


async def post(chat: Chat, *events: dict[str, Any], slug: str = "alpha-tea") -> int:
    """Post signed events to a shop's URL and process them; returns the HTTP status."""
    from litestar.testing import AsyncTestClient

    payload = body(*events)
    async with AsyncTestClient(app=chat.app) as client:
        answer = await client.post(
            f"/hooks/{KIND}/{slug}", content=payload, headers=signed(payload, slug)
        )
    await drain(chat.worker)
    return answer.status_code

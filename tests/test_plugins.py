"""The plugin manager, the hook families and the ``plugins`` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import entry_points

import pluggy
import pytest
from click.testing import CliRunner

from loyalchat.commands.plugins import plugins_command
from loyalchat.events import DomainEvent
from loyalchat.extensions.base import DuplicateExtension, InboundRequest, InvalidExtension
from loyalchat.extensions.channels import ChannelAdapter, OutboundMessage, get_channels
from loyalchat.extensions.ocr import get_ocr_engines
from loyalchat.extensions.payments import PaymentRequest, get_payment_providers
from loyalchat.extensions.receipts import (
    Outcome,
    ReceiptFacts,
    ReceiptProfile,
    ShopProfile,
    get_receipt_checks,
    get_receipt_parsers,
)
from loyalchat.extensions.rewards import get_reward_types
from loyalchat.extensions.tenant_plugins import get_settings_fields, get_tenant_plugins
from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import build_plugin_manager, describe_plugins
from loyalchat.settings import Settings
from tests.fakeplugin import FakeChannel, FakePlugin


def make_pm(**plugins: object) -> pluggy.PluginManager:
    return build_plugin_manager(load_entrypoints=False, plugins=plugins)


class OtherChannelPlugin:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    @hookimpl
    def register_channels(self, register) -> None:
        register(FakeChannel(self.kind))


async def test_fake_plugin_registered_by_name_is_called() -> None:
    fake = FakePlugin()
    pm = make_pm(fake=fake)

    channels = get_channels(pm)
    assert list(channels) == ["fakechat"]
    assert channels.owner("fakechat") == "fake"
    assert isinstance(channels["fakechat"], ChannelAdapter)
    assert list(get_ocr_engines(pm)) == ["fakeocr"]
    assert list(get_receipt_parsers(pm)) == ["fakepos"]
    assert list(get_receipt_checks(pm)) == ["fake_amount"]
    assert list(get_reward_types(pm)) == ["fakecoupon"]
    assert list(get_payment_providers(pm)) == ["fakepay"]
    assert [item.name for item in get_settings_fields(pm)["fake"]] == [
        "greeting",
        "webhook_secret",
        "account_id",
        "access_token",
    ]
    assert list(get_tenant_plugins(pm)) == ["fake"]
    assert set(fake.calls) >= {
        "register_channels",
        "register_ocr_engines",
        "register_receipt_parsers",
        "register_receipt_checks",
        "register_reward_types",
        "register_payment_providers",
        "register_tenant_settings",
    }

    # The objects work end to end through their protocols.
    config = {"account_id": "shop1", "access_token": "tok"}
    adapter = channels["fakechat"]
    request = InboundRequest("POST", "/hooks/fakechat", {"x-token": "tok"}, {}, b"hello")
    assert await adapter.verify(request, config)
    parsed = await adapter.parse(request, config)
    assert parsed.events[0].text == "hello"
    sent = await adapter.send(OutboundMessage(to="u1", text="hi"), config)
    assert sent.provider_id == "out-1"
    assert await adapter.join_link("J42", config) == "https://fake.chat/shop1?text=J42"

    lines = await get_ocr_engines(pm)["fakeocr"].read(b"img")
    fields = await get_receipt_parsers(pm)["fakepos"].parse(lines, ReceiptProfile())
    assert fields.total is not None and fields.total.value == Decimal("12.50")
    facts = ReceiptFacts(fields, received_at=datetime.now(UTC), receipt_id=1, member_id=1)
    result = await get_receipt_checks(pm)["fake_amount"].check(facts, ShopProfile(tenant_id=1))
    assert result.outcome is Outcome.passed
    start = await get_payment_providers(pm)["fakepay"].start(
        PaymentRequest(7, 1, Decimal("99.00"), "HKD", "plan", "https://x/return")
    )
    assert start.provider_ref == "pay-7"

    pm.hook.on_event(event=DomainEvent("member_joined", 1, {"member_id": 3}))
    assert fake.events[0].name == "member_joined"


def test_duplicate_channel_kind_names_both_plugins() -> None:
    pm = make_pm(first=OtherChannelPlugin("line"), second=OtherChannelPlugin("line"))
    with pytest.raises(DuplicateExtension) as caught:
        get_channels(pm)
    message = str(caught.value)
    assert "'line'" in message and "'first'" in message and "'second'" in message


def test_same_plugin_registering_twice_is_rejected() -> None:
    class Twice:
        @hookimpl
        def register_channels(self, register) -> None:
            register(FakeChannel("tg"))
            register(FakeChannel("tg"))

    with pytest.raises(DuplicateExtension, match="twice by plugin 'twice'"):
        get_channels(make_pm(twice=Twice()))


def test_object_not_matching_protocol_is_rejected() -> None:
    class HalfChannel:
        kind = "half"
        label = "Half"
        config_fields = ()
        capabilities = frozenset()

        async def verify(self, request, config) -> bool:
            return True

        def send(self, message, config):  # not async, and parse/fetch/join are missing
            return None

    class Broken:
        @hookimpl
        def register_channels(self, register) -> None:
            register(HalfChannel())

    with pytest.raises(InvalidExtension) as caught:
        get_channels(make_pm(broken=Broken()))
    message = str(caught.value)
    assert "'broken'" in message and "ChannelAdapter" in message
    assert "missing parse" in message and "send() must be async" in message


def test_empty_key_is_rejected() -> None:
    class Nameless:
        @hookimpl
        def register_channels(self, register) -> None:
            register(FakeChannel(""))

    with pytest.raises(InvalidExtension, match="empty 'kind'"):
        get_channels(make_pm(nameless=Nameless()))


def test_blocked_plugin_is_not_loaded() -> None:
    built_in = [point.name for point in entry_points(group="loyalchat")]  # every one, blocked
    settings = Settings(blocked_plugins=",".join(["fake", *built_in]))
    pm = build_plugin_manager(settings, load_entrypoints=True, plugins={"fake": FakePlugin()})
    assert pm.is_blocked("fake") and pm.is_blocked("eventlog")
    assert pm.get_plugin("fake") is None and pm.get_plugin("eventlog") is None
    assert get_channels(pm) == {}
    assert describe_plugins(pm) == []


def test_entry_points_find_builtin_eventlog() -> None:
    pm = build_plugin_manager(Settings(), load_entrypoints=True)
    import loyalchat.plugins.eventlog as eventlog

    assert pm.get_plugin("eventlog") is eventlog
    assert make_pm().get_plugin("eventlog") is None  # entry points off: nothing loaded


def test_check_pending_catches_misspelled_hook() -> None:
    class Typo:
        @hookimpl
        def register_chanels(self, register) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError, match="register_chanels"):
        make_pm(typo=Typo())


def test_async_register_hook_is_rejected() -> None:
    class AsyncHook:
        @hookimpl
        async def register_ocr_engines(self, register) -> None:
            pass

    with pytest.raises(InvalidExtension, match="must call register"):
        get_ocr_engines(make_pm(asynchook=AsyncHook()))


def test_describe_plugins() -> None:
    pm = build_plugin_manager(Settings(), load_entrypoints=True, plugins={"fake": FakePlugin()})
    rows = {row["name"]: row for row in describe_plugins(pm)}
    assert rows["eventlog"] == {
        "name": "eventlog",
        "distribution": "loyalchat",
        "version": rows["eventlog"]["version"],
        "hooks": ["on_event"],
    }
    assert rows["eventlog"]["version"]
    assert rows["fake"]["distribution"] == "local"
    assert rows["fake"]["version"] is None
    assert "register_channels" in rows["fake"]["hooks"]
    assert rows["fake"]["hooks"] == sorted(rows["fake"]["hooks"])

    import loyalchat.plugins.eventlog as eventlog

    builtin = describe_plugins(make_pm(eventlog=eventlog))
    assert builtin == [
        {"name": "eventlog", "distribution": "builtin", "version": None, "hooks": ["on_event"]}
    ]


def test_plugins_command_text_and_json() -> None:
    pm = make_pm(fake=FakePlugin())
    runner = CliRunner()

    text = runner.invoke(plugins_command, [], obj=pm)
    assert text.exit_code == 0, text.output
    header, line = text.output.splitlines()
    assert header.split() == ["name", "distribution", "version", "hooks"]
    assert line.startswith("fake ") and "local" in line and "register_channels" in line
    assert header.index("distribution") == line.index("local")  # aligned columns

    as_json = runner.invoke(plugins_command, ["--json"], obj=pm)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == describe_plugins(pm)


def test_the_cli_hands_its_plugin_manager_to_commands() -> None:
    from loyalchat.cli import build_cli

    result = CliRunner().invoke(build_cli(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert "eventlog" in [row["name"] for row in json.loads(result.output)]


async def test_plugin_pages_templates_and_static_are_discovered() -> None:
    from litestar.testing import AsyncTestClient

    from loyalchat.app import create_app
    from loyalchat.pluginmanager import build_plugin_manager
    from tests import assetplugin

    pm = build_plugin_manager(load_entrypoints=False, plugins={"assetplugin": assetplugin})
    app = create_app(run_workers=False, plugins=pm)
    async with AsyncTestClient(app=app) as client:
        page = await client.get("/hello-plugin")
        css = await client.get("/static/plugins/assetplugin/assetplugin.css")
        ours = await client.get("/static/plugins/eventlog/anything.css")
    assert page.status_code == 200
    assert "Hello from the plugin" in page.text and "<html" in page.text  # our layout around it
    assert css.status_code == 200 and "teal" in css.text
    assert ours.status_code == 404

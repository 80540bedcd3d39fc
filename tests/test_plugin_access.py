"""Per-tenant plugins: installed, offered by the platform, enabled by the tenant (issue 9).

A reward type that is off cannot be created nor redeemed; an OCR engine that is off is
never chosen; a channel that is off gets no webhook; a plugin the platform withdrew
cannot be enabled. Each tenant's choice is its own. Registries are collected once per
plugin manager.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pluggy
import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.ocr import OcrLine, get_ocr_engines
from loyalchat.extensions.rewards import get_reward_types
from loyalchat.extensions.tenant_plugins import get_tenant_plugins
from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
from loyalchat.plugins import coupon, stored_value
from loyalchat.rewards import service as rewards
from loyalchat.tenants import accounts, plugin_access
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.tables import AuditLog, PlatformPlugin, TenantPlugin
from tests.fakeplugin import FakePlugin
from tests.fixtures import PASSWORD, World
from tests.reward_helpers import OWNER, make_member, make_reward, refused

FAKE_SETTINGS = {"account_id": "acct-1", "access_token": "tok-1234"}


class SecondOcr:
    name = "secondocr"
    label = "Second OCR"

    async def read(self, image: bytes) -> list[OcrLine]:
        return []


class SecondOcrPlugin:
    @hookimpl
    def register_ocr_engines(self, register) -> None:
        register(SecondOcr())


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return build_plugin_manager(
        load_entrypoints=False,
        plugins={
            "coupon": coupon,
            "stored_value": stored_value,
            "fake": FakePlugin(),
            "second": SecondOcrPlugin(),
        },
    )


def as_owner(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, world.owner.email))


async def enable_fake(world: World, pm: pluggy.PluginManager) -> None:
    with as_owner(world):
        await ps.update_settings("fake", FAKE_SETTINGS, pm)
        await ps.enable_plugin("fake", pm)


# --- registries ---------------------------------------------------------------------------


def test_each_registry_is_collected_once_per_plugin_manager() -> None:
    fake = FakePlugin()
    pm = build_plugin_manager(load_entrypoints=False, plugins={"fake": fake})
    first = get_reward_types(pm)
    assert get_reward_types(pm) is first and get_ocr_engines(pm) is get_ocr_engines(pm)
    get_tenant_plugins(pm)
    get_tenant_plugins(pm)
    assert fake.calls.count("register_reward_types") == 1
    assert fake.calls.count("register_ocr_engines") == 1

    # A plugin registered later is seen (the cache follows the hook implementations).
    pm.register(coupon, name="coupon")
    assert list(get_reward_types(pm)) == ["coupon", "fakecoupon"]
    assert get_reward_types(pm) is not first
    other = build_plugin_manager(load_entrypoints=False, plugins={"fake": FakePlugin()})
    assert get_reward_types(other) is not get_reward_types(pm)  # per manager


async def test_listing_a_tenants_grants_collects_reward_types_once(
    tenant_a: World, pm: pluggy.PluginManager
) -> None:
    calls: list[str] = []

    class Counting:
        @hookimpl
        def register_reward_types(self, register) -> None:
            calls.append("x")

    pm.register(Counting(), name="counting")
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(1000)
        reward = await rewards.create_reward(
            {"name": {"en": "Cake"}, "points_cost": 10, "options": {"benefit": "cake"}}
            | {"type": "coupon"},
            pm,
        )
        for n in range(5):
            await rewards.redeem(member, reward.id, key=f"k{n}", pm=pm)
        calls.clear()
        with use_plugin_manager(pm):  # as a request of an app built with ``pm``
            grants = await rewards.member_grants(member)
            assert len(grants) == 5
            for grant in grants:
                await rewards.get_grant(grant.code)
    assert calls == []  # nothing re-collected per grant row


# --- defaults, offering, enabling ------------------------------------------------------------


async def test_first_party_plugins_are_on_by_default_and_others_off(
    tenant_a: World, pm: pluggy.PluginManager
) -> None:
    with as_owner(tenant_a):
        assert await plugin_access.enabled_plugins(pm) == {"coupon", "stored_value"}
        states = {state.plugin: state.enabled for state in await ps.list_plugin_states(pm)}
        assert states == {"coupon": True, "fake": False, "second": False, "stored_value": True}
        # Saving settings of a plugin on by default does not turn it off.
        assert (await ps.set_enabled("coupon", True, pm)).enabled
        assert await TenantPlugin.count() == 0  # an explicit "on" for a default is a no-op


async def test_a_disabled_reward_type_cannot_be_created_nor_redeemed(
    tenant_a: World, pm: pluggy.PluginManager
) -> None:
    with as_owner(tenant_a):
        reward = await make_reward()
        member = await make_member(1000)
        await ps.disable_plugin("coupon", pm)
        err = await refused(rewards.redeem(member, reward.id, key="off-1", pm=pm))
        assert err.code == "reward_unavailable"
        err = await refused(make_reward())
        assert (err.code, err.status) == ("plugin_disabled", 422)
        err = await refused(
            rewards.create_reward(
                {"name": {"en": "Cake"}, "points_cost": 10, "type": "fakecoupon"}, pm
            )
        )
        assert err.code == "plugin_disabled"  # installed, but this shop never turned it on

        await ps.enable_plugin("coupon", pm)  # the cache is dropped on change: at once
        grant = await rewards.redeem(member, reward.id, key="on-1", pm=pm)
        assert grant.status == "issued" and grant.display.qr


async def test_the_members_catalogue_leaves_out_rewards_of_a_type_turned_off(
    tenant_a: World, tenant_b: World, pm: pluggy.PluginManager
) -> None:
    now = datetime.now(UTC)
    with as_owner(tenant_b):
        theirs = await make_reward()
    with as_owner(tenant_a):
        coffee = await make_reward()
        assert [r.id for r in (await rewards.list_rewards(available_at=now, pm=pm)).items] == [
            coffee.id
        ]
        await ps.disable_plugin("coupon", pm)
        offered = await rewards.list_rewards(available_at=now, pm=pm)
        assert (offered.items, offered.total) == ([], 0)  # members are not offered it
        listed = await rewards.list_rewards(pm=pm)  # staff still see it, to turn it back on
        assert [r.id for r in listed.items] == [coffee.id]
    with as_owner(tenant_b):
        assert [r.id for r in (await rewards.list_rewards(available_at=now, pm=pm)).items] == [
            theirs.id
        ]


async def test_tenant_a_enablement_does_not_affect_tenant_b(
    tenant_a: World, tenant_b: World, pm: pluggy.PluginManager
) -> None:
    with as_owner(tenant_b):
        theirs = await make_reward()
        their_member = await make_member(1000)
    await enable_fake(tenant_a, pm)
    with as_owner(tenant_a):
        await ps.disable_plugin("coupon", pm)
        assert await plugin_access.enabled_plugins(pm) == {"fake", "stored_value"}
    with as_owner(tenant_b):
        assert await plugin_access.enabled_plugins(pm) == {"coupon", "stored_value"}
        grant = await rewards.redeem(their_member, theirs.id, key="b-1", pm=pm)
        assert grant.status == "issued"
        err = await refused(
            rewards.create_reward(
                {"name": {"en": "Cake"}, "points_cost": 10, "type": "fakecoupon"}, pm
            )
        )
        assert err.code == "plugin_disabled"


async def test_a_withdrawn_plugin_cannot_be_enabled_and_stops_for_every_tenant(
    tenant_a: World, tenant_b: World, pm: pluggy.PluginManager
) -> None:
    await enable_fake(tenant_a, pm)
    assert await plugin_access.set_available("fake", False, pm)
    assert not await plugin_access.set_available("fake", False, pm)  # no change, no audit
    with as_owner(tenant_a):
        assert "fake" not in await plugin_access.enabled_plugins(pm)  # its choice is kept
        assert "fake" not in [state.plugin for state in await ps.list_plugin_states(pm)]
    with as_owner(tenant_b):
        with pytest.raises(ps.PluginSettingsError, match="not offered"):
            await ps.update_settings("fake", FAKE_SETTINGS, pm)
        with pytest.raises(ps.PluginSettingsError, match="not offered"):
            await ps.enable_plugin("fake", pm)
    [row] = await PlatformPlugin.select().where(PlatformPlugin.plugin == "fake")
    assert row["available"] is False
    [entry] = await AuditLog.select().where(AuditLog.action == "plugin.withdraw")
    assert entry["tenant"] is None and entry["target"] == "plugin:fake"

    await plugin_access.set_available("fake", True, pm)
    with as_owner(tenant_a):
        assert "fake" in await plugin_access.enabled_plugins(pm)  # restored as it was


# --- OCR engines and channels -------------------------------------------------------------


async def test_a_disabled_ocr_engine_is_never_chosen(
    tenant_a: World, pm: pluggy.PluginManager
) -> None:
    with as_owner(tenant_a):
        err = await refused(plugin_access.choose_ocr_engine("fakeocr", pm))
        assert err.code == "plugin_disabled"  # nothing on: a clear error, no engine

        await ps.enable_plugin("second", pm)
        assert (await plugin_access.choose_ocr_engine("fakeocr", pm)).name == "secondocr"

        await ps.update_settings("fake", FAKE_SETTINGS, pm)
        await ps.enable_plugin("fake", pm)
        assert (await plugin_access.choose_ocr_engine("fakeocr", pm)).name == "fakeocr"
        assert (await plugin_access.choose_ocr_engine(None, pm)).name in {"fakeocr", "secondocr"}

        await ps.disable_plugin("fake", pm)
        assert (await plugin_access.choose_ocr_engine("fakeocr", pm)).name == "secondocr"


async def test_a_disabled_channel_gets_no_webhook(
    tenant_a: World, tenant_b: World, pm: pluggy.PluginManager
) -> None:
    await enable_fake(tenant_a, pm)
    with as_owner(tenant_a):
        adapter = await plugin_access.webhook_channel("fakechat", pm)
        assert adapter is not None and adapter.kind == "fakechat"
        assert await plugin_access.webhook_channel("nochat", pm) is None
    with as_owner(tenant_b):
        assert await plugin_access.webhook_channel("fakechat", pm) is None
    with as_owner(tenant_a):
        await ps.disable_plugin("fake", pm)
        assert await plugin_access.webhook_channel("fakechat", pm) is None


# --- pages ----------------------------------------------------------------------------------


async def _post(client: AsyncTestClient, path: str, data: dict, *, csrf: bool = True):
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        path, data={**data, **({"_csrf_token": token} if csrf else {})}, follow_redirects=False
    )


async def _login(client: AsyncTestClient, email: str) -> None:
    await client.get("/login")
    response = await _post(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def test_platform_admin_page_withdraws_and_offers(
    admin: accounts.StaffInfo, tenant_a: World, pm: pluggy.PluginManager
) -> None:
    from loyalchat.app import create_app

    app = create_app(run_workers=False, plugins=pm)
    async with AsyncTestClient(app=app) as client, AsyncTestClient(app=app) as owner:
        await _login(owner, tenant_a.owner.email)
        assert (await owner.get("/admin/plugins")).status_code == 403
        refused_post = await _post(owner, "/admin/plugins/coupon/available", {"available": "0"})
        assert refused_post.status_code == 403

        await _login(client, admin.email)
        page = await client.get("/admin/plugins")
        assert page.status_code == 200
        assert 'data-testid="platform-plugin-coupon"' in page.text
        assert "Reward type: Fake coupon" in page.text  # the type's label

        no_csrf = await _post(
            client, "/admin/plugins/coupon/available", {"available": "0"}, csrf=False
        )
        assert no_csrf.status_code == 403
        assert (
            await _post(client, "/admin/plugins/nope/available", {"available": "0"})
        ).status_code == 404
        done = await _post(client, "/admin/plugins/coupon/available", {"available": "0"})
        assert (done.status_code, done.headers["location"]) == (303, "/admin/plugins")

        console = await owner.get("/console/plugins")
        assert 'data-testid="plugin-coupon"' not in console.text
        assert (await owner.get("/console/plugins/coupon")).status_code == 404
        with as_owner(tenant_a):
            assert "coupon" not in await plugin_access.enabled_plugins(pm)

        await _post(client, "/admin/plugins/coupon/available", {"available": "1"})
        assert 'data-testid="plugin-coupon"' in (await owner.get("/console/plugins")).text
    actions = [row["action"] for row in await AuditLog.select().where(AuditLog.tenant.is_null())]
    assert actions.count("plugin.withdraw") == 1 and actions.count("plugin.offer") == 1


async def test_owner_turns_a_reward_type_off_in_the_console(
    tenant_a: World, tenant_b: World, pm: pluggy.PluginManager
) -> None:
    from loyalchat.app import create_app

    app = create_app(run_workers=False, plugins=pm)
    async with AsyncTestClient(app=app) as client:
        await _login(client, tenant_a.owner.email)
        off = await _post(client, "/console/plugins/coupon/enabled", {"enabled": "0"})
        assert off.status_code == 303
    with as_owner(tenant_a):
        assert "coupon" not in await plugin_access.enabled_plugins(pm)
    with as_owner(tenant_b):
        assert "coupon" in await plugin_access.enabled_plugins(pm)


async def test_the_reward_form_offers_only_the_types_the_shop_uses(
    tenant_a: World, pm: pluggy.PluginManager
) -> None:
    from loyalchat.app import create_app

    with as_owner(tenant_a):
        kept = await make_reward()  # a coupon, made while coupons were on
        await ps.disable_plugin("coupon", pm)
    app = create_app(run_workers=False, plugins=pm)
    async with AsyncTestClient(app=app) as client:
        await _login(client, tenant_a.owner.email)
        new = await client.get("/console/rewards/new")
        edit = await client.get(f"/console/rewards/{kept.id}")
    assert new.status_code == 200 and edit.status_code == 200
    assert '<option value="stored_value"' in new.text
    assert '<option value="coupon"' not in new.text and '<option value="fakecoupon"' not in new.text
    assert '<option value="coupon"' in edit.text  # an existing reward keeps its own type


async def test_enablement_is_read_once_then_cached_until_changed(
    tenant_a: World, pm: pluggy.PluginManager
) -> None:
    """The redemption path asks on every redemption: a warm cache asks the database
    nothing (a change behind the service's back is not seen), a change made through the
    service is seen at once."""
    with as_owner(tenant_a):
        await ps.disable_plugin("coupon", pm)
        assert "coupon" not in await plugin_access.enabled_plugins(pm)
        await TenantPlugin.update({TenantPlugin.enabled: True}).where(
            TenantPlugin.plugin == "coupon"
        )
        assert "coupon" not in await plugin_access.enabled_plugins(pm)  # served from cache
        plugin_access.forget(tenant_a.id)
        assert "coupon" in await plugin_access.enabled_plugins(pm)  # read again
        await ps.disable_plugin("coupon", pm)
        assert "coupon" not in await plugin_access.enabled_plugins(pm)  # dropped on change


async def test_the_embedded_worker_hands_the_process_manager_back(
    plugins: pluggy.PluginManager, pm: pluggy.PluginManager
) -> None:
    """An app with the embedded worker makes its manager the worker threads' while it
    runs, and puts back the one installed before (the worker bootstrap's, or the tests')."""
    from loyalchat.app import create_app
    from loyalchat.pluginmanager import current_plugin_manager

    app = create_app(run_workers=True, plugins=pm)
    async with AsyncTestClient(app=app):
        assert current_plugin_manager() is pm
    assert current_plugin_manager() is plugins

"""The console's Plugins page and the plugins JSON API, through the real app.

The app gets a plugin manager holding the test plugin (``app.state.plugins``). Tests touch
the database only before or after the ``async with`` block (the app runs on the client's
own event loop).
"""

from __future__ import annotations

import json

import pluggy
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.security import mask, secret_box
from loyalchat.settings import Settings
from loyalchat.tenants import accounts, apikeys
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.tables import AuditLog, Role, TenantPlugin
from tests.fakeplugin import FakePlugin
from tests.fixtures import PASSWORD, World

TOKEN = "EAAG-very-secret-access-token-1234"
B_TOKEN = "bravo-secret-token-7777"


class ExtraPlugin:
    @hookimpl
    def register_tenant_settings(self, register) -> None:
        register(SettingField("api_url", "API address", required=True))


def fake_pm(settings: Settings | None = None) -> pluggy.PluginManager:
    return build_plugin_manager(
        settings, load_entrypoints=False, plugins={"fake": FakePlugin(), "extra": ExtraPlugin()}
    )


def make_app(pm: pluggy.PluginManager | None = None) -> Litestar:
    from loyalchat.app import create_app

    app = create_app(run_workers=False)
    app.state.plugins = pm or fake_pm()
    return app


def open_client(pm: pluggy.PluginManager | None = None) -> AsyncTestClient:
    return AsyncTestClient(app=make_app(pm))


async def login(client: AsyncTestClient, email: str) -> None:
    await client.get("/login")
    response = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def post_form(client: AsyncTestClient, path: str, data: dict | None = None):
    if not client.cookies.get("lc_csrf"):
        await client.get("/login")
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        path, data={**(data or {}), "_csrf_token": token}, follow_redirects=False
    )


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def staff(world: World, role: Role) -> accounts.StaffInfo:
    user = await accounts.create_staff_user(f"{role.value}2@{world.tenant.slug}.test", PASSWORD)
    with tenant_context(world.id, Actor("system")):
        await accounts.grant_role(user.id, role)
    return user


async def owner_key(world: World) -> str:
    with tenant_context(world.id, Actor("system")):
        return (await apikeys.create_key("owner key", Role.owner)).key


async def raw_row(tenant_id: int, plugin: str = "fake") -> dict:
    rows = await TenantPlugin.raw(
        "SELECT enabled, config, secrets FROM tenant_plugin WHERE tenant = {} AND plugin = {}",
        tenant_id,
        plugin,
    )
    return rows[0]


async def runtime(world: World, plugin: str = "fake") -> dict[str, str]:
    with tenant_context(world.id):
        return await ps.runtime_settings(plugin, fake_pm())


FULL = {
    "account_id": "acct-1",
    "access_token": TOKEN,
    "greeting": "Welcome!",
    "webhook_secret": "",
}


# -- the page -------------------------------------------------------------------------------


async def test_page_lists_plugins_with_their_fields(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/plugins")
        home = await client.get("/console")
    assert page.status_code == 200
    for plugin in ("extra", "fake"):
        assert f'data-testid="plugin-{plugin}"' in page.text
    for name in ("account_id", "access_token", "greeting", "webhook_secret", "api_url"):
        assert f'name="{name}"' in page.text
    assert 'id="f-fake-access_token" name="access_token" type="password" value=""' in page.text
    assert "Sent when a member joins" in page.text  # a field's help
    assert 'action="/console/plugins/fake/enabled"' in page.text
    assert 'action="/console/plugins/fake/settings"' in page.text
    assert "Turn on" in page.text and "Save settings" in page.text
    assert 'href="/console/plugins"' in home.text  # in the navigation


async def test_page_in_chinese(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/plugins", headers={"accept-language": "zh-HK"})
    assert '<html lang="zh-Hant">' in page.text
    assert "插件" in page.text and "儲存設定" in page.text


async def test_empty_state_without_plugins(tenant_a: World) -> None:
    async with open_client(build_plugin_manager(load_entrypoints=False)) as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/plugins")
    assert page.status_code == 200
    assert "No plugins to set up" in page.text


async def test_saving_settings_encrypts_the_secret_and_never_shows_it(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        saved = await post_form(client, "/console/plugins/fake/settings", FULL)
        assert saved.status_code == 303
        assert saved.headers["location"] == "/console/plugins/fake"
        detail = await client.get("/console/plugins/fake")
        listing = await client.get("/console/plugins")
    assert "Settings for Fake saved." in detail.text  # its readable name: it declares no title
    assert detail.text.count(">Fake</h") == 1  # the page's title once (it was h1 and h2)
    assert '<h1 id="f-fake-title"' in detail.text
    for page in (detail, listing):
        assert TOKEN not in page.text
        assert "••••••••1234" in page.text  # masked: the last four only
        assert "Leave empty to keep the stored value" in page.text
        assert 'value="acct-1"' in page.text
    row = await raw_row(tenant_a.id)
    assert TOKEN not in str(row["config"]) and TOKEN not in row["secrets"]
    assert secret_box().decrypt_json(row["secrets"]) == {"access_token": TOKEN}

    # An empty secret field keeps the stored secret; other fields change.
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        again = await post_form(
            client, "/console/plugins/fake/settings", {**FULL, "access_token": "", "greeting": ""}
        )
        assert again.status_code == 303
    settings = await runtime(tenant_a)
    assert settings["access_token"] == TOKEN
    assert settings["greeting"] == "" and settings["account_id"] == "acct-1"

    audit_rows = await AuditLog.select().where(AuditLog.action == "plugin.settings")
    assert len(audit_rows) == 2
    assert TOKEN not in json.dumps(audit_rows, default=str)


async def test_validation_errors_are_shown_next_to_fields(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(
            client,
            "/console/plugins/fake/settings",
            {"account_id": " ", "access_token": "", "greeting": "Hi there"},
        )
        zh = await post_form(client, "/console/plugins/extra/settings", {"api_url": ""})
    assert response.status_code == 400
    assert 'id="f-fake-account_id-error"' in response.text
    assert 'id="f-fake-access_token-error"' in response.text
    assert "Fill this in." in response.text
    assert 'value="Hi there"' in response.text  # what was typed is kept
    assert zh.status_code == 400 and 'id="f-extra-api_url-error"' in zh.text
    with tenant_context(tenant_a.id):
        assert await ps.list_plugin_states(fake_pm()) == [
            await ps.get_plugin_state("extra", fake_pm()),
            await ps.get_plugin_state("fake", fake_pm()),
        ]
    assert await TenantPlugin.count() == 0  # nothing half-saved


async def test_turning_a_plugin_on_and_off(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        refused = await post_form(client, "/console/plugins/fake/enabled", {"enabled": "1"})
        assert refused.status_code == 400
        assert 'id="f-fake-access_token-error"' in refused.text
        assert "Fill this in before turning the plugin on." in refused.text

        await post_form(client, "/console/plugins/fake/settings", FULL)
        on = await post_form(
            client, "/console/plugins/fake/enabled", {"enabled": "1", "next": "/console/plugins"}
        )
        assert on.status_code == 303 and on.headers["location"] == "/console/plugins"
        page = await client.get("/console/plugins")
        assert "Fake is on." in page.text
        card = page.text[page.text.index('data-testid="plugin-fake"') :]
        assert 'role="switch" aria-checked="true"' in card.split("</section>")[0]
    assert (await raw_row(tenant_a.id))["enabled"] is True

    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        off = await post_form(
            client, "/console/plugins/fake/enabled", {"enabled": "0", "next": "//evil.example"}
        )
        assert off.headers["location"] == "/console/plugins"
    assert (await raw_row(tenant_a.id))["enabled"] is False
    actions = [row["action"] for row in await AuditLog.select(AuditLog.action)]
    assert actions.count("plugin.enable") == 1 and actions.count("plugin.disable") == 1


async def test_unknown_or_blocked_plugin_is_not_found(tenant_a: World) -> None:
    pm = fake_pm(Settings(blocked_plugins="extra"))
    async with open_client(pm) as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/plugins")
        assert 'data-testid="plugin-extra"' not in page.text
        for name in ("nope", "extra"):
            assert (await client.get(f"/console/plugins/{name}")).status_code == 404
            settings = await post_form(client, f"/console/plugins/{name}/settings", {"x": "1"})
            assert settings.status_code == 404
            enabled = await post_form(client, f"/console/plugins/{name}/enabled", {"enabled": "1"})
            assert enabled.status_code == 404
    assert await TenantPlugin.count() == 0


async def test_cashier_is_refused_and_manager_only_looks(tenant_a: World) -> None:
    manager = await staff(tenant_a, Role.manager)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        assert (await client.get("/console/plugins")).status_code == 403
        assert (await client.get("/console/plugins/fake")).status_code == 403
        response = await post_form(client, "/console/plugins/fake/settings", FULL)
        assert response.status_code == 403
        home = await client.get("/console")
        assert "/console/plugins" not in home.text
    async with open_client() as client:
        await login(client, manager.email)
        page = await client.get("/console/plugins")
        assert page.status_code == 200
        assert "Only the owner can change plugins." in page.text
        assert "Save settings" not in page.text
        assert (await post_form(client, "/console/plugins/fake/settings", FULL)).status_code == 403
        enabled = await post_form(client, "/console/plugins/fake/enabled", {"enabled": "1"})
        assert enabled.status_code == 403
    assert await TenantPlugin.count() == 0


async def test_posts_need_the_csrf_token(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await client.post("/console/plugins/fake/settings", data=FULL)
        assert response.status_code == 403
        response = await client.post("/console/plugins/fake/enabled", data={"enabled": "1"})
        assert response.status_code == 403
    assert await TenantPlugin.count() == 0


async def test_two_tenants_never_see_or_change_each_other(tenant_a: World, tenant_b: World) -> None:
    pm = fake_pm()
    with tenant_context(tenant_b.id, Actor("system")):
        await ps.update_settings("fake", {"account_id": "bravo-acct", "access_token": B_TOKEN}, pm)
        await ps.enable_plugin("fake", pm)
    b_before = await raw_row(tenant_b.id)
    a_key = await owner_key(tenant_a)

    async with open_client(pm) as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/plugins")
        detail = await client.get("/console/plugins/fake")
        await post_form(client, "/console/plugins/fake/settings", FULL)
        listed = await client.get("/api/v1/plugins", headers=bearer(a_key))
        put = await client.put(
            "/api/v1/plugins/fake",
            json={"enabled": True, "settings": {"account_id": "alpha-2"}},
            headers=bearer(a_key),
        )
    for response in (page, detail, listed, put):
        assert "bravo-acct" not in response.text
        # Not even B's masked hint (dots and its last four: a bare "7777" can turn up inside
        # a random CSRF token).
        assert mask(B_TOKEN) not in response.text and B_TOKEN not in response.text
    assert mask(TOKEN) in listed.text  # A's own hint is shown, in the same form
    assert "Turn on" in page.text  # A's copy is off, B's is on
    assert put.status_code == 200 and put.json()["enabled"] is True

    assert await raw_row(tenant_b.id) == b_before
    b_settings = await runtime(tenant_b)
    assert b_settings["account_id"] == "bravo-acct" and b_settings["access_token"] == B_TOKEN
    a_settings = await runtime(tenant_a)
    assert a_settings["account_id"] == "alpha-2" and a_settings["access_token"] == TOKEN


# -- the JSON API ---------------------------------------------------------------------------


async def test_api_needs_a_key(tenant_a: World) -> None:
    async with open_client() as client:
        assert (await client.get("/api/v1/plugins")).status_code == 401
        assert (await client.get("/api/v1/plugins/fake")).status_code == 401
        response = await client.put("/api/v1/plugins/fake", json={"enabled": False})
        assert response.status_code == 401
        wrong = await client.get("/api/v1/plugins", headers=bearer("lc_nothere_x"))
        assert wrong.status_code == 401


async def test_api_reads_with_secrets_masked(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, Actor("system")):
        await ps.update_settings("fake", {"account_id": "acct-1", "access_token": TOKEN}, fake_pm())
    async with open_client() as client:
        listed = await client.get("/api/v1/plugins", headers=bearer(tenant_a.api_key))
        one = await client.get("/api/v1/plugins/fake", headers=bearer(tenant_a.api_key))
        unknown = await client.get("/api/v1/plugins/nope", headers=bearer(tenant_a.api_key))
    assert listed.status_code == 200
    assert [item["plugin"] for item in listed.json()] == ["extra", "fake"]
    assert one.status_code == 200
    body = one.json()
    assert TOKEN not in one.text and TOKEN not in listed.text
    fields = {item["name"]: item for item in body["fields"]}
    assert fields["access_token"] == {
        "name": "access_token",
        "label": "Access token",
        "required": True,
        "secret": True,
        "help": "",
        "value": "••••••••1234",
        "is_set": True,
    }
    assert fields["webhook_secret"]["is_set"] is False
    assert body["enabled"] is False and body["configured"] is True and body["missing"] == []
    assert unknown.status_code == 404


async def test_api_put_saves_enables_and_validates(tenant_a: World) -> None:
    key = await owner_key(tenant_a)
    pm = fake_pm(Settings(blocked_plugins="extra"))
    async with open_client(pm) as client:
        manager = await client.put(
            "/api/v1/plugins/fake", json={"enabled": True}, headers=bearer(tenant_a.api_key)
        )
        assert manager.status_code == 403  # the fixture's key is a manager's

        missing = await client.put(
            "/api/v1/plugins/fake", json={"enabled": True}, headers=bearer(key)
        )
        assert missing.status_code == 400
        keys = {item["key"] for item in missing.json()["error"]["extra"]}
        assert keys == {"settings.account_id", "settings.access_token"}

        bad = await client.put(
            "/api/v1/plugins/fake",
            json={"settings": {"account_id": 42, "colour": "red", "access_token": "t"}},
            headers=bearer(key),
        )
        assert bad.status_code == 400
        problems = {item["key"]: item["message"] for item in bad.json()["error"]["extra"]}
        assert problems == {
            "settings.account_id": "must be text",
            "settings.colour": "unknown setting",
        }

        unknown_field = await client.put(
            "/api/v1/plugins/fake", json={"enable": True}, headers=bearer(key)
        )
        assert unknown_field.status_code == 400

        for name in ("nope", "extra"):
            gone = await client.put(f"/api/v1/plugins/{name}", json={}, headers=bearer(key))
            assert gone.status_code == 404

        ok = await client.put(
            "/api/v1/plugins/fake",
            json={"enabled": True, "settings": {"account_id": "acct-1", "access_token": TOKEN}},
            headers=bearer(key),
        )
        assert ok.status_code == 200, ok.text
        assert TOKEN not in ok.text
        assert ok.json()["enabled"] is True
        fields = {item["name"]: item for item in ok.json()["fields"]}
        assert fields["access_token"]["value"] == "••••••••1234"

        keep = await client.put(
            "/api/v1/plugins/fake",
            json={"enabled": False, "settings": {"access_token": ""}},
            headers=bearer(key),
        )
        assert keep.status_code == 200 and keep.json()["enabled"] is False
    assert (await runtime(tenant_a))["access_token"] == TOKEN
    row = await raw_row(tenant_a.id)
    assert TOKEN not in row["secrets"] and row["enabled"] is False
    actions = [row["action"] for row in await AuditLog.select(AuditLog.action)]
    assert {"plugin.settings", "plugin.enable", "plugin.disable"} <= set(actions)


async def test_api_is_in_the_openapi_schema(tenant_a: World) -> None:
    async with open_client() as client:
        schema = await client.get("/schema/openapi.json")
    paths = schema.json()["paths"]
    assert "/api/v1/plugins" in paths and "/api/v1/plugins/{plugin}" in paths
    assert set(paths["/api/v1/plugins/{plugin}"]) >= {"get", "put"}

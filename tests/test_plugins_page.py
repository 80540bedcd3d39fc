"""The console's plugins page: each plugin's title and what it does in the reader's language,
and a switch whose state is what the shop really uses (``tenants.plugin_access``)."""

from __future__ import annotations

import re

import pluggy

from loyalchat.extensions.plugin_info import PluginInfo, describe, localize
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.rewards import service as rewards
from loyalchat.settings import Settings
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World

COUPON_REWARD = {
    "name_en": "Free coffee",
    "points_cost": "100",
    "type": "coupon",
    "opt_coupon__benefit": "One free coffee",
    "active": "1",
    "position": "0",
}


def card(html: str, plugin: str) -> str:
    start = html.index(f'data-testid="plugin-{plugin}"')
    return html[start : html.index("</section>", start)]


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


async def test_plugins_show_their_title_summary_and_real_state(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        english = await client.get("/console/plugins")
        await client.get("/lang/zh-Hant", params={"next": "/console/plugins"})
        chinese = await client.get("/console/plugins")
    assert english.status_code == 200 and chinese.status_code == 200
    coupon = card(english.text, "coupon")
    assert "Coupons" in text_of(coupon) and "discount or a free item" in coupon
    assert 'role="switch" aria-checked="true"' in coupon  # on by default (DEFAULT_PLUGINS)
    for name in ("stored_value", "rapidocr", "genericparser"):
        assert 'aria-checked="true"' in card(english.text, name)
    assert "needs no settings" not in english.text
    titles = re.findall(r'data-testid="plugin-title">([^<]+)<', english.text)
    assert "genericparser" not in titles and "stored_value" not in titles
    zh = text_of(card(chinese.text, "coupon"))
    assert "優惠券" in zh and "已啟用" in zh
    assert "discount" not in zh and "Coupons" not in zh


async def test_turning_coupons_off_refuses_coupon_rewards(tenant_a: World, tenant_b: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        off = await post_form(
            client, "/console/plugins/coupon/enabled", {"enabled": "0", "next": "/console/plugins"}
        )
        page = await client.get("/console/plugins")
        form = await client.get("/console/rewards/new")
        refused = await post_form(client, "/console/rewards", COUPON_REWARD)
    assert off.status_code == 303
    assert 'role="switch" aria-checked="false"' in card(page.text, "coupon")
    assert "Coupons is off." in page.text
    assert 'value="coupon"' not in form.text  # no longer offered on the reward form
    assert refused.status_code == 400 and "error-summary" in refused.text
    with as_owner(tenant_a):
        assert (await rewards.list_rewards()).total == 0

    # The other shop keeps its coupons.
    async with open_client() as client:
        await login(client, tenant_b.owner.email)
        theirs = await client.get("/console/plugins")
        created = await post_form(client, "/console/rewards", COUPON_REWARD)
    assert 'aria-checked="true"' in card(theirs.text, "coupon")
    assert created.status_code == 303
    with as_owner(tenant_b):
        assert (await rewards.list_rewards()).total == 1


class _Declared:
    PLUGIN_INFO = PluginInfo(
        title={"zh-Hant": "會員生日", "zh-Hans": "会员生日", "en": "Birthdays"},
        summary={"en": "Sends a gift on a member's birthday."},
    )


class _Silent:
    pass


def _pm() -> pluggy.PluginManager:
    return build_plugin_manager(
        Settings(),
        load_entrypoints=False,
        plugins={"birthday_gift": _Declared(), "third_party_thing": _Silent()},
    )


def test_third_party_plugins_declare_texts_per_language_or_fall_back_to_their_name() -> None:
    pm = _pm()
    assert describe(pm, "birthday_gift", "zh-Hant").title == "會員生日"
    assert (
        describe(pm, "birthday_gift", "zh-Hans").summary == "Sends a gift on a member's birthday."
    )
    silent = describe(pm, "third_party_thing", "zh-Hant")
    assert (silent.title, silent.summary, silent.declared) == ("Third party thing", "", False)
    assert localize("Coupons", "zh-Hant") == "優惠券"
    assert localize("Not in any catalogue", "zh-Hans") == "Not in any catalogue"

"""The wallet's language (the member's choice, then the browser, then the shop), on its
pages and its error pages, and the confirm page reached again after redeeming (Back,
reload): it shows the grant its spent form made, never a second live form.
"""

from __future__ import annotations

import time

from itsdangerous import URLSafeTimedSerializer
from litestar.testing import AsyncTestClient

from loyalchat.members import links
from loyalchat.settings import get_settings
from loyalchat.tenants.tables import Tenant
from tests.fixtures import World
from tests.wallet_helpers import (
    anonymous_client,  # noqa: F401 (the `client` fixture)
    balance,
    by_testid,
    form_of,
    make_coupon,
    make_member,
    path_of,
)


def _lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


# --- language ------------------------------------------------------------------------------


async def test_an_english_phone_gets_the_english_wallet_when_the_member_has_no_choice(
    client: AsyncTestClient, tenant_a: World
) -> None:
    assert tenant_a.tenant.locale == "zh-Hant"
    member = await make_member(tenant_a, 300)  # no language of their own
    base = path_of(tenant_a, member)
    for path in ("", "/history", "/rewards", "/mine"):
        page = (await client.get(base + path, headers={"accept-language": "en-GB,en;q=0.9"})).text
        assert _lang(page) == "en", path
        assert "My rewards" in page and "我的獎賞" not in page
    page = (await client.get(base, headers={"accept-language": "zh-CN,zh;q=0.9"})).text
    assert _lang(page) == "zh-Hans" and "我的奖励" in page


async def test_the_members_choice_wins_over_the_browser(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 300)
    base = path_of(tenant_a, member)
    english = {"accept-language": "en-US,en;q=0.9"}
    page = (await client.get(base, headers=english)).text
    assert _lang(page) == "en"
    # The member picks 简体中文 in the wallet's switcher: every page follows, on any phone.
    form = form_of(page, f"{base}/lang")
    switched = await client.post(
        f"{base}/lang",
        data={**form, "locale": "zh-Hans", "next": f"{base}/rewards"},
        headers=english,
    )
    assert str(switched.url).endswith(f"{base}/rewards")
    assert _lang(switched.text) == "zh-Hans"
    for path in ("", "/history", "/mine"):
        assert _lang((await client.get(base + path, headers=english)).text) == "zh-Hans"
    # The choice is the member's, not this browser's: another phone sees it too.
    async with AsyncTestClient(app=client.app) as other_phone:
        page = (await other_phone.get(base, headers={"accept-language": "zh-HK"})).text
        assert _lang(page) == "zh-Hans"
    # The console's language switcher is untouched by the wallet's.
    assert "lc_lang" not in client.cookies


async def test_the_shops_language_when_neither_member_nor_browser_says(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 300)
    base = path_of(tenant_a, member)
    assert _lang((await client.get(base)).text) == "zh-Hant"  # no Accept-Language at all
    # A browser language we do not offer counts as no choice.
    page = (await client.get(base, headers={"accept-language": "fr-FR,de;q=0.8"})).text
    assert _lang(page) == "zh-Hant"
    await Tenant.update({Tenant.locale: "zh-Hans"}).where(Tenant.id == tenant_a.id)
    assert _lang((await client.get(base, headers={"accept-language": "fr"})).text) == "zh-Hans"


def _expired_token(tenant_id: int, member_id: int) -> str:
    age = get_settings().wallet_link_max_age + 60

    class Past(URLSafeTimedSerializer.default_signer):  # type: ignore[name-defined]
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(get_settings().secret(), salt=links.SALT, signer=Past)
    return serializer.dumps([tenant_id, member_id, 0])


async def test_error_pages_negotiate_the_same_way(client: AsyncTestClient, tenant_a: World) -> None:
    chooser = await make_member(tenant_a, 1, locale="zh-Hans")
    no_choice = await make_member(tenant_a, 1, phone="98765432")
    english = {"accept-language": "en"}
    # Expired links: the member's choice, then the browser, then the shop's.
    stale = f"/w/{_expired_token(tenant_a.id, chooser.id)}"
    response = await client.get(stale, headers=english)
    assert response.status_code == 410 and _lang(response.text) == "zh-Hans"
    stale = f"/w/{_expired_token(tenant_a.id, no_choice.id)}"
    response = await client.get(stale, headers=english)
    assert response.status_code == 410 and _lang(response.text) == "en"
    assert by_testid(response.text, "refresh-keyword") == ["card"]
    assert _lang((await client.get(stale)).text) == "zh-Hant"
    # A page that is not there, behind a good link: the same order.
    missing = await client.get(f"{path_of(tenant_a, chooser)}/media/{'0' * 64}", headers=english)
    assert missing.status_code == 404 and _lang(missing.text) == "zh-Hans"
    missing = await client.get(f"{path_of(tenant_a, no_choice)}/media/{'0' * 64}", headers=english)
    assert missing.status_code == 404 and _lang(missing.text) == "en"
    missing = await client.get(f"{path_of(tenant_a, no_choice)}/media/{'0' * 64}")
    assert missing.status_code == 404 and _lang(missing.text) == "zh-Hant"
    # A link that does not work names no shop: the browser's language, else English.
    assert _lang((await client.get("/w/nonsense", headers={"accept-language": "zh-TW"})).text) == (
        "zh-Hant"
    )
    assert _lang((await client.get("/w/nonsense")).text) == "en"


# --- Back after redeeming ----------------------------------------------------------------------


async def test_the_confirm_page_reached_again_after_redeeming_shows_the_outcome(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 250, locale="en")
    coffee = await make_coupon(tenant_a, 100)
    base = path_of(tenant_a, member)

    # The catalogue's link hands out a form token in the confirm page's own address.
    first = await client.get(f"{base}/rewards/{coffee.id}", follow_redirects=False)
    assert first.status_code == 303
    address = first.headers["location"]
    assert address.startswith(f"{base}/rewards/{coffee.id}?form=")
    confirm = await client.get(address)
    assert confirm.headers["cache-control"] == "no-store"
    form = form_of(confirm.text, f"{base}/rewards/{coffee.id}")
    assert form["form_token"] == address.rsplit("=", 1)[1]
    assert by_testid(confirm.text, "confirm-redeem")
    # Shown again before redeeming: still the same live form.
    assert form_of((await client.get(address)).text, f"{base}/rewards/{coffee.id}") == form

    done = await client.post(f"{base}/rewards/{coffee.id}", data=form)
    assert done.status_code == 201
    [code] = by_testid(done.text, "grant-code")
    assert await balance(tenant_a, member) == 150

    # Back (or a reload) asks for the confirm page again: its token is spent.
    again = await client.get(address)
    assert again.status_code == 200
    assert again.headers["cache-control"] == "no-store"
    assert by_testid(again.text, "already-redeemed") == [
        "You have redeemed this reward already. Here it is; no more points were taken."
    ]
    assert by_testid(again.text, "grant-code") == [code]
    assert f'href="{base}/mine"' in again.text
    assert 'data-testid="confirm-redeem"' not in again.text
    assert 'name="form_token"' not in again.text
    assert await balance(tenant_a, member) == 150

    # A new visit from the catalogue is a new form, which redeems again.
    fresh = (await client.get(f"{base}/rewards/{coffee.id}")).text
    assert form_of(fresh, f"{base}/rewards/{coffee.id}")["form_token"] != form["form_token"]


async def test_a_spent_token_shows_nothing_of_another_member(
    client: AsyncTestClient, tenant_a: World, tenant_b: World
) -> None:
    alice = await make_member(tenant_a, 250, locale="en")
    bob = await make_member(tenant_b, 250, locale="en")
    coffee = await make_coupon(tenant_a, 100)
    base = path_of(tenant_a, alice)
    address = (await client.get(f"{base}/rewards/{coffee.id}")).url
    form = form_of((await client.get(address)).text, f"{base}/rewards/{coffee.id}")
    await client.post(f"{base}/rewards/{coffee.id}", data=form)
    # Bob's link with Alice's spent token (and Alice's reward id): no grant of hers.
    other = await client.get(
        f"{path_of(tenant_b, bob)}/rewards/{coffee.id}?form={form['form_token']}"
    )
    assert other.status_code == 404
    assert 'data-testid="already-redeemed"' not in other.text
    assert await balance(tenant_b, bob) == 250

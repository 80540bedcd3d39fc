"""The member's language choice in the wallet, and the shop's name in the reader's script.

The switcher keeps the member's choice (the wallet's and the chat's language) without
writing when nothing changes and without a staff audit entry (the audit log is for staff
actions); the shop's name shows in the reader's Chinese script in the wallet, its error
pages and the console's top bar; a link that does not work answers, like the wallet, in
the browser's language, else the shop's.
"""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.tables import Member
from loyalchat.tenants import audit
from loyalchat.tenants.tables import Tenant
from tests.console_helpers import login, open_client
from tests.fixtures import World
from tests.wallet_helpers import (
    STAFF,
    anonymous_client,  # noqa: F401 (the `client` fixture)
    by_testid,
    form_of,
    make_member,
    path_of,
)

HANT = "Demo Café 示範咖啡 銅鑼灣店"
HANS = "Demo Café 示范咖啡 铜锣湾店"
FRENCH = {"accept-language": "fr-FR,fr;q=0.9"}


def _lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


async def _member_row(member_id: int) -> dict:
    row = (
        await Member.select(Member.locale, Member.updated_at).where(Member.id == member_id).first()
    )
    assert row is not None
    return row


async def _audit_entries(world: World) -> list[dict]:
    with tenant_context(world.id, STAFF):
        return await audit.recent(limit=200)


async def test_the_language_switcher_keeps_the_choice_without_an_audit_entry(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 10)
    base = path_of(tenant_a, member)
    before_audit = len(await _audit_entries(tenant_a))
    page = (await client.get(base)).text
    form = form_of(page, f"{base}/lang")

    # Six taps, as a member trying the languages out: the last one is kept.
    for locale in ("zh-Hans", "en", "zh-Hant", "en", "zh-Hans", "zh-Hans"):
        switched = await client.post(f"{base}/lang", data={**form, "locale": locale})
        assert switched.status_code == 200 and _lang(switched.text) == locale
    assert (await _member_row(member.id))["locale"] == "zh-Hans"  # the chat's language too
    # The member's own choice is not a staff action: nothing in the shop's audit log.
    assert len(await _audit_entries(tenant_a)) == before_audit

    # A tap on the language already chosen writes nothing (the row is not touched).
    stamped = (await _member_row(member.id))["updated_at"]
    again = await client.post(f"{base}/lang", data={**form, "locale": "zh-Hans"})
    assert again.status_code == 200 and _lang(again.text) == "zh-Hans"
    assert (await _member_row(member.id))["updated_at"] == stamped
    # An unknown language changes nothing either.
    odd = await client.post(f"{base}/lang", data={**form, "locale": "fr"})
    assert odd.status_code == 200 and _lang(odd.text) == "zh-Hans"
    assert await _member_row(member.id) == {"locale": "zh-Hans", "updated_at": stamped}


async def test_the_shop_name_in_the_readers_chinese_script(
    client: AsyncTestClient, tenant_a: World
) -> None:
    await Tenant.update({Tenant.display_name: HANT}).where(Tenant.id == tenant_a.id)
    member = await make_member(tenant_a, 10)
    base = path_of(tenant_a, member)
    simplified = {"accept-language": "zh-CN"}
    page = (await client.get(base, headers=simplified)).text
    assert _lang(page) == "zh-Hans"
    assert by_testid(page, "wallet-shop") == [HANS] and HANT not in page
    page = (await client.get(base, headers={"accept-language": "zh-HK"})).text
    assert by_testid(page, "wallet-shop") == [HANT]
    page = (await client.get(base, headers={"accept-language": "en"})).text
    assert by_testid(page, "wallet-shop") == [HANT]  # as typed: no script to convert to

    # "Log out everywhere" names the shop in the member's script too.
    form = form_of((await client.get(base, headers=simplified)).text, f"{base}/logout")
    done = await client.post(f"{base}/logout", data=form, headers=simplified)
    assert done.status_code == 200 and HANS in done.text and HANT not in done.text


async def test_the_console_top_bar_names_the_shop_in_the_readers_script(
    tenant_a: World,
) -> None:
    await Tenant.update({Tenant.display_name: HANT}).where(Tenant.id == tenant_a.id)
    async with open_client() as console:
        await login(console, tenant_a.owner.email)
        home = await console.get("/console", headers={"accept-language": "zh-CN"})
        assert _lang(home.text) == "zh-Hans"
        assert by_testid(home.text, "tenant-name") == [HANS]
        home = await console.get("/console", headers={"accept-language": "zh-TW"})
        assert by_testid(home.text, "tenant-name") == [HANT]


async def test_a_link_that_does_not_work_answers_in_the_wallets_language(
    client: AsyncTestClient, tenant_a: World
) -> None:
    """fr-FR is not offered: the wallet and its error pages both fall back to the shop's."""
    member = await make_member(tenant_a, 10)
    base = path_of(tenant_a, member)
    assert tenant_a.tenant.locale == "zh-Hant"
    assert _lang((await client.get(base, headers=FRENCH)).text) == "zh-Hant"
    # A link cut short (the copy lost its end), or altered: "This link does not work",
    # in the shop's language, without naming the shop (the token is not genuine).
    # (Altered well inside the signature: its last base64 character carries spare bits, and
    # some changes to it decode to the same signature.)
    swapped = "A" if base[-10] != "A" else "B"
    for broken in (base[:-6], base[:-10] + swapped + base[-9:]):
        page = await client.get(broken, headers=FRENCH)
        assert page.status_code == 403 and _lang(page.text) == "zh-Hant", broken
        assert "此連結無效" in page.text
        assert tenant_a.tenant.display_name not in page.text
    # The browser's language still comes first; a token naming no shop: English.
    cut = await client.get(base[:-6], headers={"accept-language": "en-GB"})
    assert _lang(cut.text) == "en"
    assert _lang((await client.get("/w/nonsense", headers=FRENCH)).text) == "en"
    # A suspended shop's link: its own language too.
    await Tenant.update({Tenant.status: "suspended", Tenant.locale: "zh-Hans"}).where(
        Tenant.id == tenant_a.id
    )
    page = await client.get(base, headers=FRENCH)
    assert page.status_code == 403 and _lang(page.text) == "zh-Hans"


def test_an_unverified_token_names_a_tenant_only_for_its_language() -> None:
    token = links.make_token(7, 9)
    assert links.unverified_tenant_id(token[:-4]) == 7
    for junk in ("", "nonsense", "....", "é.x", "WzBd.x", "WyJhIiwxLDBd.x"):
        assert links.unverified_tenant_id(junk) is None, junk


async def test_choose_language_touches_only_the_current_tenants_member(
    tenant_a: World, tenant_b: World
) -> None:
    member = await make_member(tenant_a, 0)
    with tenant_context(tenant_b.id, STAFF):
        assert await members.choose_language(member.id, "en") is False
    assert (await _member_row(member.id))["locale"] == ""
    with tenant_context(tenant_a.id, STAFF):
        assert await members.choose_language(member.id, "en") is True
        assert await members.choose_language(member.id, "en") is False
    assert (await _member_row(member.id))["locale"] == "en"

"""The member wallet (/w/<token>): card, history, catalogue, redeem with confirm, coupons,
languages.

Pages are driven through the real app with a cookie-keeping client, as a member's phone
would: forms are read back from the HTML (CSRF token, form token) and submitted.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from litestar.testing import AsyncTestClient

from loyalchat import i18n
from loyalchat.context import tenant_context
from loyalchat.domain import DomainError
from loyalchat.ledger import service as ledger
from loyalchat.ledger import stored_value
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberUpdate
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Grant
from loyalchat.tenants.tables import Tenant
from tests.fixtures import World
from tests.wallet_helpers import (
    STAFF,
    anonymous_client,  # noqa: F401 (the `client` fixture)
    balance,
    by_testid,
    decode_svg_qr,
    form_of,
    make_coupon,
    make_member,
    path_of,
    qr_svgs,
)

# --- card and history --------------------------------------------------------------------


async def test_card_shows_balances_and_verified_state(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 1250, locale="en")
    with tenant_context(tenant_a.id, STAFF):
        await stored_value.top_up(member.id, Decimal("50.50"), key="topup:1")

    response = await client.get(path_of(tenant_a, member))
    assert response.status_code == 200, response.text
    page = response.text
    assert by_testid(page, "wallet-shop") == [tenant_a.tenant.display_name]
    assert by_testid(page, "wallet-member-no") == [member.member_no]
    assert by_testid(page, "wallet-points") == ["1,250"]
    assert by_testid(page, "wallet-stored-value") == ["HK$50.50"]
    assert by_testid(page, "wallet-verified") == ["Verified member"]
    assert 'data-testid="verify-invite"' not in page
    assert '<html lang="en">' in page
    # The token is a credential in the URL: never sent on as a Referer, never cached.
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "sidenav" not in page  # the wallet's own layout, not the console's


async def test_unverified_member_is_invited_to_add_name_and_phone(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, name="", phone="", locale="en")
    assert not member.verified
    base = path_of(tenant_a, member)
    page = (await client.get(base)).text
    assert by_testid(page, "wallet-verified") == ["Not verified yet"]
    assert 'data-testid="verify-invite"' in page

    form = form_of(page, f"{base}/profile")
    refused = await client.post(f"{base}/profile", data={**form, "name": "Wong", "phone": "12"})
    assert refused.status_code == 400
    assert "Check your phone number." in refused.text
    with tenant_context(tenant_a.id, STAFF):
        assert not (await members.get_member_by_id(member.id)).verified

    saved = await client.post(
        f"{base}/profile",
        data={**form, "name": "Wong Siu Ming", "phone": "9123 4567"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with tenant_context(tenant_a.id, STAFF):
        now = await members.get_member_by_id(member.id)
    assert (now.name, now.phone, now.verified) == ("Wong Siu Ming", "+85291234567", True)
    page = (await client.get(saved.headers["location"])).text
    assert "Your details are saved" in page
    assert by_testid(page, "wallet-verified") == ["Verified member"]


async def test_a_verified_members_details_are_read_only_in_the_wallet(
    client: AsyncTestClient, tenant_a: World
) -> None:
    """A link is a bearer token (it may have been forwarded): it never rewrites a verified
    member's name or phone. The page says to ask the shop; a POST anyway changes nothing."""
    member = await make_member(tenant_a, locale="en")
    assert member.verified
    base = path_of(tenant_a, member)
    page = (await client.get(base)).text
    assert 'data-testid="verify-invite"' not in page and f'action="{base}/profile"' not in page
    assert by_testid(page, "profile-name") == ["Chan Tai Man"]
    assert by_testid(page, "profile-phone") == ["•••• 4567"]
    assert "+85291234567" not in page  # the full number is not shown to a link holder
    assert by_testid(page, "profile-how-to-change") == [
        "To change your name or phone number, please ask the shop."
    ]

    csrf = form_of(page, f"{base}/lang")["_csrf_token"]
    refused = await client.post(
        f"{base}/profile",
        data={"_csrf_token": csrf, "name": "Mallory", "phone": "9876 5432"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert by_testid(refused.text, "wallet-error") == [
        "Your details are confirmed. To change them, please ask the shop."
    ]
    with tenant_context(tenant_a.id, STAFF):
        now = await members.get_member_by_id(member.id)
    assert (now.name, now.phone) == ("Chan Tai Man", "+85291234567")


async def test_the_service_refuses_a_wallet_edit_of_a_verified_member(tenant_a: World) -> None:
    """Checked again under the row lock: verified between the page and the POST still counts."""
    member = await make_member(tenant_a)
    with tenant_context(tenant_a.id, STAFF):
        with pytest.raises(DomainError) as refused:
            await members.update_member(
                member.member_no, MemberUpdate(name="Mallory"), unverified_only=True
            )
        assert refused.value.code == "profile_locked"
        assert (await members.get_member_by_id(member.id)).name == "Chan Tai Man"


async def test_forms_without_the_csrf_token_are_refused(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, name="", phone="")
    response = await client.post(
        f"{path_of(tenant_a, member)}/profile", data={"name": "X", "phone": "91234567"}
    )
    assert response.status_code == 403
    with tenant_context(tenant_a.id, STAFF):
        assert not (await members.get_member_by_id(member.id)).verified


async def test_history_lists_every_change_newest_first(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 300, locale="en")
    with tenant_context(tenant_a.id, STAFF):
        await ledger.adjust(member.id, -20, key="adjust:1", reason="Birthday mix-up")
    page = (await client.get(f"{path_of(tenant_a, member)}/history")).text
    assert by_testid(page, "history-points") == ["-20", "+300"]
    assert "Birthday mix-up" in page
    assert "Adjusted by the shop: Birthday mix-up" in page and "Points earned" in page
    assert by_testid(page, "wallet-points") == ["280"]


# --- catalogue and redemption ---------------------------------------------------------------


async def test_redeem_with_confirm_deducts_points_and_shows_the_coupon_qr(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 250, locale="en")
    coffee = await make_coupon(tenant_a, 100, stock=5)
    base = path_of(tenant_a, member)

    page = (await client.get(f"{base}/rewards")).text
    assert by_testid(page, "reward-cost") == ["100 points"]
    assert by_testid(page, "reward-stock") == ["5 left"]
    assert f'href="{base}/rewards/{coffee.id}"' in page

    confirm = await client.get(f"{base}/rewards/{coffee.id}")
    assert by_testid(confirm.text, "confirm-after") == ["150"]
    assert await balance(tenant_a, member) == 250, "showing the confirm step deducts nothing"
    form = form_of(confirm.text, f"{base}/rewards/{coffee.id}")
    assert form["form_token"] and form["_csrf_token"]

    done = await client.post(f"{base}/rewards/{coffee.id}", data=form)
    assert done.status_code == 201, done.text
    assert await balance(tenant_a, member) == 150
    with tenant_context(tenant_a.id, STAFF):
        [grant] = await rewards.member_grants(member.id)
    assert by_testid(done.text, "grant-code") == [f"{grant.code[:4]}-{grant.code[4:]}"]
    assert by_testid(done.text, "grant-status") == ["Ready to use"]
    assert by_testid(done.text, "wallet-points") == ["150"]
    [svg] = qr_svgs(done.text)
    assert decode_svg_qr(svg) == f"LCG:{grant.code}"

    mine = (await client.get(f"{base}/mine")).text
    assert by_testid(mine, "grant-code") == [f"{grant.code[:4]}-{grant.code[4:]}"]
    [svg] = qr_svgs(mine)
    assert decode_svg_qr(svg) == f"LCG:{grant.code}"
    assert "Valid until" in mine

    # Once used at the till, the coupon moves to the past list without a QR code.
    with tenant_context(tenant_a.id, STAFF):
        await rewards.use_grant(grant.code)
    mine = (await client.get(f"{base}/mine")).text
    assert qr_svgs(mine) == []
    assert by_testid(mine, "grant-status") == ["Used"]


async def test_the_same_form_submitted_twice_redeems_once(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 500, locale="en")
    coffee = await make_coupon(tenant_a, 100)
    base = path_of(tenant_a, member)
    form = form_of(
        (await client.get(f"{base}/rewards/{coffee.id}")).text, f"{base}/rewards/{coffee.id}"
    )

    # A double tap: two posts of the same form at once, then a third from the back button.
    first, second = await asyncio.gather(
        client.post(f"{base}/rewards/{coffee.id}", data=form),
        client.post(f"{base}/rewards/{coffee.id}", data=form),
    )
    third = await client.post(f"{base}/rewards/{coffee.id}", data=form)
    codes = {tuple(by_testid(r.text, "grant-code")) for r in (first, second, third)}
    assert len(codes) == 1 and all(r.status_code == 201 for r in (first, second, third))
    assert await balance(tenant_a, member) == 400
    with tenant_context(tenant_a.id, STAFF):
        assert len(await rewards.member_grants(member.id)) == 1

    # A fresh confirm page is a new form: that one redeems again.
    again = form_of(
        (await client.get(f"{base}/rewards/{coffee.id}")).text, f"{base}/rewards/{coffee.id}"
    )
    assert again["form_token"] != form["form_token"]
    assert (await client.post(f"{base}/rewards/{coffee.id}", data=again)).status_code == 201
    assert await balance(tenant_a, member) == 300


async def test_insufficient_points_get_a_clear_message(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 60, locale="en")
    coffee = await make_coupon(tenant_a, 100)
    base = path_of(tenant_a, member)

    page = (await client.get(f"{base}/rewards")).text
    assert by_testid(page, "reward-short") == ["40 more points needed"]
    assert f'href="{base}/rewards/{coffee.id}"' not in page
    confirm = (await client.get(f"{base}/rewards/{coffee.id}")).text
    assert by_testid(confirm, "wallet-short") == ["You need 40 more points for this reward."]
    assert 'data-testid="confirm-redeem"' not in confirm

    # A stale confirm page (points spent elsewhere meanwhile) posts anyway: refused, clearly.
    form = form_of((await client.get(base)).text, f"{base}/lang")
    response = await client.post(
        f"{base}/rewards/{coffee.id}",
        data={"_csrf_token": form["_csrf_token"], "form_token": "x" * 24},
    )
    assert response.status_code == 409
    assert by_testid(response.text, "wallet-error") == [
        "You do not have enough points for this reward yet."
    ]
    assert await balance(tenant_a, member) == 60
    assert await Grant.count() == 0


async def test_sold_out_rewards_say_so(client: AsyncTestClient, tenant_a: World) -> None:
    member = await make_member(tenant_a, 500, locale="en")
    await make_coupon(tenant_a, 100, stock=0)
    page = (await client.get(f"{path_of(tenant_a, member)}/rewards")).text
    assert "Sold out" in page and 'data-testid="reward-redeem"' not in page


# --- languages ------------------------------------------------------------------------------


def _t(locale: str, message: str) -> str:
    return i18n.translations(locale).gettext(message)


@pytest.mark.parametrize(
    ("locale", "name", "coupon"),
    [
        ("zh-Hant", "免費咖啡", "優惠券：免費咖啡一杯"),
        ("zh-Hans", "免费咖啡", "优惠券：免费咖啡一杯"),
        ("en", "Free coffee", "Coupon: 免費咖啡一杯"),
    ],
)
async def test_pages_speak_the_members_language(
    client: AsyncTestClient, tenant_a: World, locale: str, name: str, coupon: str
) -> None:
    member = await make_member(tenant_a, 500, locale=locale)
    coffee = await make_coupon(tenant_a, 100)
    base = path_of(tenant_a, member)
    page = (await client.get(f"{base}/rewards", headers={"accept-language": "en"})).text
    assert f'<html lang="{locale}">' in page
    assert name in page
    assert _t(locale, "My rewards") in page and _t(locale, "Redeem points") in page
    form = form_of(
        (await client.get(f"{base}/rewards/{coffee.id}")).text, f"{base}/rewards/{coffee.id}"
    )
    done = (await client.post(f"{base}/rewards/{coffee.id}", data=form)).text
    assert coupon in done


async def test_language_falls_back_to_the_shops_then_switches(
    client: AsyncTestClient, tenant_a: World
) -> None:
    # No language of their own and none from the browser: the shop's zh-Hant.
    member = await make_member(tenant_a, 10)
    base = path_of(tenant_a, member)
    page = (await client.get(base)).text
    assert '<html lang="zh-Hant">' in page
    form = form_of(page, f"{base}/lang")
    switched = await client.post(
        f"{base}/lang", data={**form, "locale": "en", "next": f"{base}/history"}
    )
    assert switched.status_code == 200
    assert str(switched.url).endswith(f"{base}/history")
    assert '<html lang="en">' in switched.text
    with tenant_context(tenant_a.id, STAFF):
        assert (await members.get_member_by_id(member.id)).locale == "en"
    # An off-site "next" is ignored.
    away = await client.post(
        f"{base}/lang",
        data={**form, "locale": "zh-Hans", "next": "https://evil.test/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == base


async def test_an_unset_shop_language_falls_back_to_the_browser(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 10)
    await Tenant.update({Tenant.locale: ""}).where(Tenant.id == tenant_a.id)
    page = (await client.get(path_of(tenant_a, member), headers={"accept-language": "zh-CN"})).text
    assert '<html lang="zh-Hans">' in page

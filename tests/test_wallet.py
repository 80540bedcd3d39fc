"""The member wallet (/w/<token>): card, history, catalogue, redeem with confirm, coupons.

Pages are driven through the real app with a cookie-keeping client, as a member's phone
would: forms are read back from the HTML (CSRF token, form token) and submitted.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import zxingcpp
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image, ImageDraw

from loyalchat.context import Actor, tenant_context
from loyalchat.frontend import i18n
from loyalchat.ledger import service as ledger
from loyalchat.ledger import value
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate, MemberOut
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardOut
from loyalchat.rewards.tables import Grant
from loyalchat.settings import get_settings
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.conftest import PG_URL
from tests.fixtures import PASSWORD, World

STAFF = Actor("staff", 1, "Owner")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app() -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def make_member(
    world: World, points: int = 0, *, name: str = "Chan Tai Man", phone: str = "91234567", **more
) -> MemberOut:
    with tenant_context(world.id, STAFF):
        member = await members.create_member(MemberCreate(name=name, phone=phone, **more))
        if points:
            await ledger.earn(member.id, points, key=f"seed:{member.id}", reason="welcome")
        return await members.get_member_by_id(member.id)


async def make_coupon(world: World, cost: int = 100, **fields) -> RewardOut:
    values = {
        "name": {"zh-Hant": "免費咖啡", "en": "Free coffee"},
        "points_cost": cost,
        "type": "coupon",
        "options": {"benefit": "免費咖啡一杯"},
        "validity_days": 30,
    }
    values.update(fields)
    with tenant_context(world.id, STAFF):
        return await rewards.create_reward(values)


def path_of(world: World, member: MemberOut) -> str:
    return links.PATH_PREFIX + links.make_token(world.id, member.id)


async def balance(world: World, member: MemberOut) -> int:
    with tenant_context(world.id, STAFF):
        return (await members.get_member_by_id(member.id)).points


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden and valued inputs of the form posting to ``action``, as a browser sends them."""
    forms = re.findall(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", page, re.S)
    for target, body in forms:
        if html.unescape(target) == action:
            fields = re.findall(r"<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", body)
            return {name: html.unescape(val) for name, val in fields}
    raise AssertionError(f"no form posting to {action}")


def decode_svg_qr(svg: str) -> str:
    """Draw the inline SVG QR code's modules with Pillow and read it back with zxing-cpp."""
    root = ET.fromstring(svg)  # noqa: S314 - our own page's SVG
    width = int(float(root.get("viewBox", "").split()[2]))
    scale = 8
    image = Image.new("L", (width * scale, width * scale), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    for x, y, x2, y2 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path.get("d")):
        box = [float(x) * scale, float(y) * scale, float(x2) * scale - 1, float(y2) * scale - 1]
        draw.rectangle(box, fill=0)
    found = zxingcpp.read_barcodes(image)
    assert found, "the QR code did not decode"
    return found[0].text


def qr_svgs(page: str) -> list[str]:
    return re.findall(r"<svg [^>]*role=\"img\".*?</svg>", page, re.S)


def by_testid(page: str, name: str) -> list[str]:
    """The text of every element with ``data-testid=name`` (one level, tags stripped)."""
    found = re.findall(rf"data-testid=\"{name}\"[^>]*>(.*?)</", page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in found]


# --- card and history --------------------------------------------------------------------


async def test_card_shows_balances_and_verified_state(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 1250, locale="en")
    with tenant_context(tenant_a.id, STAFF):
        await value.top_up(member.id, Decimal("50.50"), key="topup:1")

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
    assert "Points adjusted" in page and "Points earned" in page
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


# --- links: expiry, tampering, isolation, merges -------------------------------------------


def _old_token(tenant_id: int, member_id: int, age: int) -> str:
    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(get_settings().secret(), salt=links.SALT, signer=Past)
    return serializer.dumps([tenant_id, member_id])


async def test_an_expired_link_gets_a_friendly_page_in_the_members_language(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 100, locale="zh-Hans")
    max_age = get_settings().wallet_link_max_age
    fresh = _old_token(tenant_a.id, member.id, max_age - 60)
    assert (await client.get(f"/w/{fresh}")).status_code == 200

    stale = _old_token(tenant_a.id, member.id, max_age + 60)
    with pytest.raises(links.LinkExpired):
        links.verify(stale)
    response = await client.get(f"/w/{stale}")
    assert response.status_code == 410
    page = response.text
    assert '<html lang="zh-Hans">' in page
    assert by_testid(page, "refresh-keyword") == ["会员"]
    assert tenant_a.tenant.display_name in page
    assert member.member_no not in page and "Traceback" not in page
    # Every page of an expired link says the same, the POSTs too.
    assert (await client.get(f"/w/{stale}/mine")).status_code == 410
    assert (await client.post(f"/w/{stale}/rewards/1", data={})).status_code in (403, 410)


async def test_max_age_comes_from_settings(tenant_a: World) -> None:
    member = await make_member(tenant_a)
    token = _old_token(tenant_a.id, member.id, 120)
    assert links.verify(token) == (tenant_a.id, member.id)
    with pytest.raises(links.LinkExpired):
        links.verify(token, max_age=60)
    settings = get_settings().model_copy(update={"wallet_link_max_age": 60})
    with pytest.raises(links.LinkExpired):
        links.verify(token, settings=settings)


@pytest.mark.parametrize(
    ("accept", "lang", "keyword"),
    [("zh-HK,zh;q=0.9", "zh-Hant", "會員"), ("zh-CN", "zh-Hans", "会员"), ("en-GB", "en", "card")],
)
async def test_a_tampered_link_is_refused_with_403(
    client: AsyncTestClient, tenant_a: World, accept: str, lang: str, keyword: str
) -> None:
    member = await make_member(tenant_a, 100)
    other = await make_member(tenant_a, 9999, phone="98765432")
    token = links.make_token(tenant_a.id, member.id)
    payload, rest = token.split(".", 1)
    # Swap the signed member id for another member's: the signature no longer matches.
    forged = links.make_token(tenant_a.id, other.id).split(".", 1)[0] + "." + rest
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    wrong_key = URLSafeTimedSerializer("not our secret", salt=links.SALT).dumps(
        [tenant_a.id, member.id]
    )
    wrong_salt = URLSafeTimedSerializer(get_settings().secret(), salt="other").dumps(
        [tenant_a.id, member.id]
    )
    for bad in (forged, flipped, wrong_key, wrong_salt, "x", payload):
        response = await client.get(f"/w/{bad}", headers={"accept-language": accept})
        assert response.status_code == 403, bad
        assert other.member_no not in response.text and member.member_no not in response.text
        assert f'<html lang="{lang}">' in response.text
        assert by_testid(response.text, "refresh-keyword") == [keyword]


async def test_a_token_shows_its_own_member_whoever_is_signed_in(
    client: AsyncTestClient, tenant_a: World, tenant_b: World
) -> None:
    mine_a = await make_member(tenant_a, 111, locale="en")
    mine_b = await make_member(tenant_b, 222, name="Bravo Customer", locale="en")
    reward_b = await make_coupon(tenant_b, 50, name="Bravo cake")
    # Signed in as tenant A's owner: the session claims A; B's token still shows only B's member.
    await client.get("/login")
    await client.post(
        "/login",
        data={"email": tenant_a.owner.email, "password": PASSWORD},
        headers={"x-csrftoken": client.cookies.get("lc_csrf", "")},
    )
    page = (await client.get(path_of(tenant_b, mine_b))).text
    assert by_testid(page, "wallet-member-no") == [mine_b.member_no]
    assert by_testid(page, "wallet-shop") == [tenant_b.tenant.display_name]
    assert tenant_a.tenant.display_name not in page and "Chan Tai Man" not in page

    # A's member asking for B's reward by id: not found, and nothing of B's changes.
    base_a = path_of(tenant_a, mine_a)
    confirm = await client.get(f"{base_a}/rewards/{reward_b.id}")
    assert confirm.status_code == 404 and "Bravo cake" not in confirm.text
    catalogue = (await client.get(f"{base_a}/rewards")).text
    assert "Bravo cake" not in catalogue
    form = form_of((await client.get(base_a)).text, f"{base_a}/lang")
    response = await client.post(
        f"{base_a}/rewards/{reward_b.id}",
        data={"_csrf_token": form["_csrf_token"], "form_token": "y" * 24},
    )
    assert response.status_code == 404
    assert await Grant.count() == 0
    assert await balance(tenant_a, mine_a) == 111
    assert await balance(tenant_b, mine_b) == 222

    # A token claiming tenant A with B's member id: that member is not A's.
    crossed = links.make_token(tenant_a.id, mine_b.id)
    response = await client.get(f"/w/{crossed}")
    assert response.status_code == 410 and mine_b.member_no not in response.text


async def test_a_merged_members_link_opens_the_member_it_was_merged_into(
    client: AsyncTestClient, tenant_a: World
) -> None:
    kept = await make_member(tenant_a, 100, locale="en")
    absorbed = await make_member(tenant_a, 40, name="", phone="", locale="en")
    old_link = path_of(tenant_a, absorbed)
    with tenant_context(tenant_a.id, STAFF):
        await members.merge_members(kept.member_no, absorbed.member_no, "same person")
    page = (await client.get(old_link)).text
    assert by_testid(page, "wallet-member-no") == [kept.member_no]
    assert by_testid(page, "wallet-points") == ["140"]


async def test_a_suspended_shops_wallet_is_closed(client: AsyncTestClient, tenant_a: World) -> None:
    member = await make_member(tenant_a, 100)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="test")
    response = await client.get(path_of(tenant_a, member))
    assert response.status_code == 403 and member.member_no not in response.text


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
    member = await make_member(tenant_a, 10)  # no language of their own: the shop's zh-Hant
    base = path_of(tenant_a, member)
    page = (await client.get(base, headers={"accept-language": "en"})).text
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
    from loyalchat.tenants.tables import Tenant

    await Tenant.update({Tenant.locale: ""}).where(Tenant.id == tenant_a.id)
    page = (await client.get(path_of(tenant_a, member), headers={"accept-language": "zh-CN"})).text
    assert '<html lang="zh-Hans">' in page


# --- links and the command line ---------------------------------------------------------------


async def test_wallet_url_by_number_or_id_and_the_cli(tenant_a: World) -> None:
    member = await make_member(tenant_a, 10)
    base = get_settings().public_base_url.rstrip("/")
    by_no = await links.wallet_url(member.member_no, tenant_a.tenant.slug)
    by_id = await links.wallet_url(member.id, tenant_a.id)
    for url in (by_no, by_id):
        assert url.startswith(f"{base}/w/")
        assert links.verify(url.rsplit("/", 1)[1]) == (tenant_a.id, member.id)
    with pytest.raises(links.NotFound):
        await links.wallet_url("M999999", tenant_a.tenant.slug)

    env = {
        **os.environ,
        "LOYALCHAT_DATABASE_URL": PG_URL,
        "LOYALCHAT_PUBLIC_BASE_URL": "https://x.test",
    }
    code, out, err = await run_cli(
        env, "wallet-link", member.member_no, "--tenant", tenant_a.tenant.slug
    )
    assert code == 0, err
    url = out.strip()
    assert url.startswith("https://x.test/w/")
    assert links.verify(url.rsplit("/", 1)[1]) == (tenant_a.id, member.id)
    code, _, err = await run_cli(env, "wallet-link", "M999999", "--tenant", tenant_a.tenant.slug)
    assert code != 0 and "M999999" in err


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loyalchat", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()

"""Wallet links: expiry, tampering, one member per token across tenants, merged members,
closed shops, ``wallet_url`` and ``loyalchat wallet-link``. Revocation: test_wallet_revoke.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.members import links
from loyalchat.purchases import service as purchases
from loyalchat.rewards.tables import Grant
from loyalchat.settings import get_settings
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.conftest import PG_URL
from tests.fixtures import PASSWORD, World
from tests.wallet_helpers import (
    STAFF,
    anonymous_client,  # noqa: F401 (the `client` fixture)
    balance,
    by_testid,
    form_of,
    make_coupon,
    make_member,
    path_of,
)

ROOT = Path(__file__).resolve().parents[1]


# --- links: expiry, tampering, isolation, merges -------------------------------------------


def _old_token(tenant_id: int, member_id: int, age: int) -> str:
    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(get_settings().secret(), salt=links.SALT, signer=Past)
    return serializer.dumps([tenant_id, member_id, 0])


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


def test_links_last_a_day_by_default() -> None:
    from loyalchat.settings import Settings

    assert Settings.model_fields["wallet_link_max_age"].default == 24 * 60 * 60


def test_the_chat_reply_says_how_long_a_link_works() -> None:
    from loyalchat.members.card_reply import lifetime

    assert lifetime("en", 24 * 60 * 60) == "24 hours"
    assert lifetime("zh-Hant", 24 * 60 * 60) == "24 小時"
    assert lifetime("zh-Hans", 7 * 24 * 60 * 60) == "7 天"


async def test_max_age_comes_from_settings(tenant_a: World) -> None:
    member = await make_member(tenant_a)
    token = _old_token(tenant_a.id, member.id, 120)
    assert links.verify(token) == (tenant_a.id, member.id, 0)
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


async def test_a_merge_revokes_the_absorbed_members_links(
    client: AsyncTestClient, tenant_a: World
) -> None:
    """An old link of the absorbed member must not open the kept member (whose details it
    never knew): it gets the expired-link page; a new link from the chat opens the kept one."""
    kept = await make_member(tenant_a, 100, locale="en")
    absorbed = await make_member(tenant_a, 40, name="", phone="", locale="en")
    old_link, kept_link = path_of(tenant_a, absorbed), path_of(tenant_a, kept)
    assert (await client.get(old_link)).status_code == 200
    with tenant_context(tenant_a.id, STAFF):
        await purchases.merge_members(kept.member_no, absorbed.member_no, "same person")
    response = await client.get(old_link)
    assert response.status_code == 410
    assert by_testid(response.text, "refresh-keyword") == ["card"]
    assert kept.member_no not in response.text and "140" not in response.text
    assert (await client.get(f"{old_link}/history")).status_code == 410
    # The kept member's own links are untouched; the absorbed number's link is the kept one.
    page = (await client.get(kept_link)).text
    assert by_testid(page, "wallet-points") == ["140"]
    url = await links.wallet_url(absorbed.member_no, tenant_a.id)
    assert links.verify(url.rsplit("/", 1)[1])[:2] == (tenant_a.id, kept.id)


async def test_a_suspended_shops_wallet_is_closed(client: AsyncTestClient, tenant_a: World) -> None:
    member = await make_member(tenant_a, 100)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="test")
    response = await client.get(path_of(tenant_a, member))
    assert response.status_code == 403 and member.member_no not in response.text


# --- links and the command line ---------------------------------------------------------------


async def test_wallet_url_by_number_or_id_and_the_cli(tenant_a: World) -> None:
    member = await make_member(tenant_a, 10)
    base = get_settings().public_base_url.rstrip("/")
    by_no = await links.wallet_url(member.member_no, tenant_a.tenant.slug)
    by_id = await links.wallet_url(member.id, tenant_a.id)
    for url in (by_no, by_id):
        assert url.startswith(f"{base}/w/")
        assert links.verify(url.rsplit("/", 1)[1]) == (tenant_a.id, member.id, 0)
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
    assert links.verify(url.rsplit("/", 1)[1]) == (tenant_a.id, member.id, 0)
    code, _, err = await run_cli(env, "wallet-link", "M999999", "--tenant", tenant_a.tenant.slug)
    assert code != 0 and "M999999" in err


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loyalchat", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()

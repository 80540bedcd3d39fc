"""The member page hands out the member's wallet link: copy, e-mail, QR code.

Whoever may see members (cashier and up) gets it; the link opens that member's wallet and
no other; a suspended shop, a merged member and another shop's member get no link.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from loyalchat.context import tenant_context
from loyalchat.members import links
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus
from tests.console_helpers import login, open_client
from tests.fixtures import World
from tests.wallet_helpers import STAFF, by_testid, decode_svg_qr, make_member

MAIL_RE = re.compile(r'href="(mailto:[^"]*)"[^>]*data-testid="wallet-mail"')


def _link(page: str) -> str:
    found = re.search(r'<input id="wallet-url"[^>]*value="([^"]+)"', page)
    assert found, "no wallet link on the page"
    return html.unescape(found.group(1))


def _path(url: str) -> str:
    return urlsplit(url).path


async def test_member_page_hands_out_the_members_wallet_link(tenant_a: World) -> None:
    member = await make_member(tenant_a, 120, name="Amy Chan", email="amy@example.com", locale="en")
    other = await make_member(tenant_a, 5, name="Bob Lee", phone="92345678")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/members/{member.id}")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"  # the page carries a credential
        url = _link(page.text)
        wallet = await client.get(_path(url))
        qr = await client.get(f"/console/members/{member.id}/wallet-qr")
        other_qr = await client.get(f"/console/members/{other.id}/wallet-qr")
    # The link opens this member's wallet: their number and balance.
    assert wallet.status_code == 200
    assert member.member_no in wallet.text and "120" in wallet.text
    assert other.member_no not in wallet.text
    with tenant_context(tenant_a.id, STAFF):
        assert links.verify(url.rsplit("/", 1)[1]).member_id == member.id
    # Copy, e-mail and QR code, in the order a cashier reaches them.
    assert by_testid(page.text, "wallet-copy") == ["Copy link"]
    assert "Show as a QR code" in page.text
    mail = urlsplit(html.unescape(MAIL_RE.search(page.text).group(1)))
    assert mail.path == "amy@example.com"
    fields = parse_qs(mail.query)
    assert fields["subject"] == [f"Your membership card at {tenant_a.tenant.display_name}"]
    assert url in fields["body"][0] and "Amy Chan" in fields["body"][0]
    # The QR code (SVG, never cached) opens the same member's wallet.
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.headers["cache-control"] == "no-store"
    scanned = decode_svg_qr(qr.text)
    assert scanned.startswith("http") and "/w/" in scanned
    with tenant_context(tenant_a.id, STAFF):
        assert links.verify(scanned.rsplit("/", 1)[1]).member_id == member.id
    assert decode_svg_qr(other_qr.text) != scanned


async def test_the_mail_is_in_the_members_language(tenant_a: World) -> None:
    member = await make_member(tenant_a, name="陳大文", locale="zh-Hant")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/members/{member.id}")
    fields = parse_qs(urlsplit(html.unescape(MAIL_RE.search(page.text).group(1))).query)
    assert fields["subject"] == [f"你在 {tenant_a.tenant.display_name} 的會員卡"]
    assert fields["body"][0].startswith("陳大文 你好")
    assert "Copy link" in page.text  # the page itself stays in the cashier's language


async def test_page_order_on_a_phone_balance_and_actions_before_profile(tenant_a: World) -> None:
    member = await make_member(tenant_a, 10)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = (await client.get(f"/console/members/{member.id}")).text
    order = [
        page.index('data-testid="member-points"'),
        page.index('data-testid="purchase-form"'),
        page.index('data-testid="adjust-form"'),
        page.index('data-testid="wallet-link-card"'),
        page.index('id="history"'),
        page.index('data-testid="profile-disclosure"'),
        page.index('data-testid="merge-disclosure"'),
    ]
    assert order == sorted(order)
    # Profile and merge sit behind closed disclosures until a refused form opens one.
    assert re.search(r'<details class="card disclosure" id="profile"\s+data-testid', page)
    assert re.search(r'<details class="card disclosure" id="merge"\s+data-testid', page)


async def test_no_link_for_another_shops_member(tenant_a: World, tenant_b: World) -> None:
    theirs = await make_member(tenant_b, 50, name="Bravo Person", phone="98765432")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/members/{theirs.id}")
        qr = await client.get(f"/console/members/{theirs.id}/wallet-qr")
    assert page.status_code == 404 and qr.status_code == 404
    assert "/w/" not in page.text + qr.text and "Bravo Person" not in page.text


async def test_no_link_while_the_shop_is_suspended(tenant_a: World) -> None:
    member = await make_member(tenant_a, 10)
    await tenants.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/members/{member.id}")
        qr = await client.get(f"/console/members/{member.id}/wallet-qr")
    assert page.status_code == 200  # the data stays readable
    assert member.member_no in page.text
    assert "/w/" not in page.text and 'data-testid="wallet-link-card"' not in page.text
    assert qr.status_code == 404


async def test_no_link_for_a_merged_member(tenant_a: World) -> None:
    from loyalchat.purchases import service as purchases

    kept = await make_member(tenant_a, 10, name="Kept")
    gone = await make_member(tenant_a, 5, name="Gone", phone="93456789")
    with tenant_context(tenant_a.id, STAFF):
        await purchases.merge_members(kept.member_no, gone.member_no, "joined twice")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/members/{gone.id}")
        qr = await client.get(f"/console/members/{gone.id}/wallet-qr")
    assert page.status_code == 200 and 'data-testid="merged-banner"' in page.text
    assert "/w/" not in page.text and qr.status_code == 404


async def test_signed_out_visitors_get_no_qr(tenant_a: World) -> None:
    member = await make_member(tenant_a, 10)
    async with open_client() as client:
        qr = await client.get(f"/console/members/{member.id}/wallet-qr", follow_redirects=False)
    assert qr.status_code in (302, 303, 401)
    assert "/w/" not in qr.text

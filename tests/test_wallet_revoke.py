"""Revoking wallet links: "log out everywhere" in the wallet, "sign out all wallet links"
in the console (manager, CSRF, form token, audited), and tokens without a link version.

A revoked link gets the same friendly page as an expired one; a link made afterwards works.
"""

from __future__ import annotations

import re

from itsdangerous import URLSafeTimedSerializer
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.settings import get_settings
from loyalchat.tenants.tables import AuditLog
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World
from tests.wallet_helpers import (
    STAFF,
    anonymous_client,  # noqa: F401 (the `client` fixture)
    by_testid,
    form_of,
    make_member,
)

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
FORM_RE = re.compile(r'data-testid="wallet-links-form".*?</form>', re.S)
TOKEN_RE = re.compile(r'name="token" value="([A-Za-z0-9_-]+)"')


async def _url_path(world: World, member_id: int) -> str:
    """A fresh link, as the chat hands one out (signed with the current link version)."""
    url = await links.wallet_url(member_id, world.id)
    return "/w/" + url.rsplit("/w/", 1)[1]


async def _revocations(world: World, member_id: int) -> list[dict]:
    return await (
        AuditLog.select()
        .where(AuditLog.tenant == world.id)
        .where(AuditLog.action == "member.wallet_links_revoked")
        .where(AuditLog.target == f"member:{member_id}")
    )


async def test_log_out_everywhere_revokes_every_link_of_the_member(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 100, locale="en")
    other = await make_member(tenant_a, 50, phone="98765432", locale="en")
    first, second = await _url_path(tenant_a, member.id), await _url_path(tenant_a, member.id)
    others = await _url_path(tenant_a, other.id)
    page = (await client.get(first)).text
    assert 'data-testid="logout-everywhere"' in page

    response = await client.post(f"{first}/logout", data=form_of(page, f"{first}/logout"))
    assert response.status_code == 200
    assert by_testid(response.text, "signed-out") == ["You are logged out everywhere"]
    assert by_testid(response.text, "refresh-keyword") == ["card"]
    assert member.member_no not in response.text

    for path in (first, second, f"{second}/history", f"{first}/mine"):
        revoked = await client.get(path)
        assert revoked.status_code == 410, path
        assert "This link has expired" in revoked.text and member.member_no not in revoked.text
    # A POST with a revoked link changes nothing either.
    assert (await client.post(f"{first}/logout", data={})).status_code in (403, 410)
    assert len(await _revocations(tenant_a, member.id)) == 1
    # Another member's links are untouched, and a new link from the chat works.
    assert (await client.get(others)).status_code == 200
    fresh = await client.get(await _url_path(tenant_a, member.id))
    assert by_testid(fresh.text, "wallet-member-no") == [member.member_no]


async def test_log_out_everywhere_needs_the_csrf_token(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 100)
    path = await _url_path(tenant_a, member.id)
    assert (await client.post(f"{path}/logout", data={})).status_code == 403
    assert (await client.get(path)).status_code == 200
    assert await _revocations(tenant_a, member.id) == []


async def test_a_token_without_a_link_version_is_refused(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member = await make_member(tenant_a, 100)
    serializer = URLSafeTimedSerializer(get_settings().secret(), salt=links.SALT)
    for payload in ([tenant_a.id, member.id], [tenant_a.id, member.id, "0"], [1, 2, 3, 4]):
        response = await client.get(f"/w/{serializer.dumps(payload)}")
        assert response.status_code == 403, payload
        assert member.member_no not in response.text
    # A version the member never had (a future or forged one) does not open the wallet.
    ahead = links.make_token(tenant_a.id, member.id, 5)
    assert (await client.get(f"/w/{ahead}")).status_code == 410


async def test_staff_signs_out_all_wallet_links(tenant_a: World) -> None:
    member = await make_member(tenant_a, 100, locale="en")
    old = await _url_path(tenant_a, member.id)
    async with open_client() as client:
        assert (await client.get(old)).status_code == 200
        await login(client, tenant_a.owner.email)
        detail = (await client.get(f"/console/members/{member.id}")).text
        form = FORM_RE.search(detail)
        assert form, "the member page has the sign-out form"
        fields = {
            "token": TOKEN_RE.search(form.group(0)).group(1),
            "version": VERSION_RE.search(form.group(0)).group(1),
        }
        path = f"/console/members/{member.id}/wallet-links"
        no_csrf = await client.post(path, data=fields, follow_redirects=False)
        no_token = await post_form(client, path, {"version": fields["version"]})
        done = await post_form(client, path, fields)
        again = await post_form(client, path, fields)  # the same form sent twice
        page = (await client.get(done.headers["location"])).text
        revoked = await client.get(old)
        huge = await post_form(client, path, {**fields, "version": "99999999999"})
    assert no_csrf.status_code == 403 and no_token.status_code == 303
    assert done.status_code == 303 and again.status_code == 303 and huge.status_code == 303
    assert "All wallet links of this member are signed out." in page
    assert revoked.status_code == 410 and "This link has expired" in revoked.text
    entries = await _revocations(tenant_a, member.id)
    assert len(entries) == 1, (
        "revoked once: the missing token, the replay and the huge version did nothing"
    )
    assert entries[0]["actor"].startswith("staff:")
    with tenant_context(tenant_a.id, STAFF):
        assert await links.link_version(member.id) == 1


async def test_a_cashier_cannot_sign_out_wallet_links(tenant_a: World, tenant_b: World) -> None:
    member = await make_member(tenant_a, 100)
    theirs = await make_member(tenant_b, 100)
    old = await _url_path(tenant_a, member.id)
    fields = {"token": "t" * 24, "version": "0"}
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        detail = (await client.get(f"/console/members/{member.id}")).text
        refused = await post_form(client, f"/console/members/{member.id}/wallet-links", fields)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        other_shop = await post_form(client, f"/console/members/{theirs.id}/wallet-links", fields)
        assert (await client.get(old)).status_code == 200
    assert 'data-testid="wallet-links-form"' not in detail
    assert refused.status_code == 403 and other_shop.status_code == 404
    assert await _revocations(tenant_a, member.id) == []
    assert await _revocations(tenant_b, theirs.id) == []
    with tenant_context(tenant_b.id, STAFF):
        assert (await members.get_member_by_id(theirs.id)).status == "active"
        assert await links.link_version(theirs.id) == 0

"""What a shop's people may do, by the shop's status (issue 8, finding 2).

``active``: everything. ``suspended``: read-only with a banner; every write is refused
with 403 ``tenant_suspended``, in the console and through API keys. ``applying``,
``pending_review``, ``rejected``: the console home shows the application status and
nothing of the programme is reachable (403 ``tenant_not_active``).
"""

from __future__ import annotations

import pytest

from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.tenants import access, accounts, apikeys
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import Role, TenantStatus
from tests.api_support import add_member, add_reward, bearer, key_with_role, points_of
from tests.console_helpers import as_owner, form_tokens, login, open_client, post_form
from tests.fixtures import World, make_world
from tests.wallet_helpers import balance, make_coupon, make_member, path_of

ONBOARDING = [TenantStatus.applying, TenantStatus.pending_review, TenantStatus.rejected]


async def _member_id(world: World) -> int:
    with as_owner(world):
        member = await members.create_member(MemberCreate(name="Amy"))
        await ledger.adjust(member.id, 10, key=f"seed:{member.id}", reason="seed")
    return member.id


async def _balance(world: World, member_id: int) -> int:
    with as_owner(world):
        return (await members.get_member_by_id(member_id)).points


async def _key_count(world: World) -> int:
    with as_owner(world):
        return len(await apikeys.list_keys())


async def _adjust_and_mint(client, member_id: int) -> tuple:
    """As the signed-in owner: +1000 points by hand, then a new API key."""
    page = await client.get(f"/console/members/{member_id}")
    token = form_tokens(page.text)[-1] if form_tokens(page.text) else "t" * 24
    adjusted = await post_form(
        client,
        f"/console/members/{member_id}/adjustments",
        {"token": token, "points": "1000", "reason": "free points"},
    )
    minted = await post_form(client, "/console/api-keys", {"name": "mine", "role": "owner"})
    return adjusted, minted


async def test_suspension_stops_the_owners_writes_until_reactivated(
    admin: accounts.StaffInfo, tenant_a: World
) -> None:
    """The review's reproduction: after /admin suspends the shop, the owner's open session
    posted +1000 points and created an API key. Now both are refused, and work again on
    reactivation."""
    member_id = await _member_id(tenant_a)
    keys_before = await _key_count(tenant_a)
    async with open_client() as owner, open_client() as staff:
        await login(owner, tenant_a.owner.email)
        await login(staff, admin.email)
        suspended = await post_form(
            staff, f"/admin/tenants/{tenant_a.id}/status", {"status": "suspended", "reason": "x"}
        )
        assert suspended.status_code == 303
        adjusted, minted = await _adjust_and_mint(owner, member_id)
        assert adjusted.status_code == 403, adjusted.text[:300]
        assert minted.status_code == 403, minted.text[:300]
        assert "suspended" in adjusted.text
        json_refusal = await owner.post(
            "/console/api-keys",
            data={"name": "x", "role": "owner", "_csrf_token": owner.cookies.get("lc_csrf", "")},
            headers={"accept": "application/json"},
        )
        assert json_refusal.status_code == 403
        assert json_refusal.json()["error"]["code"] == "tenant_suspended"
    assert await _balance(tenant_a, member_id) == 10
    assert await _key_count(tenant_a) == keys_before

    async with open_client() as owner, open_client() as staff:
        await login(owner, tenant_a.owner.email)
        await login(staff, admin.email)
        back = await post_form(staff, f"/admin/tenants/{tenant_a.id}/status", {"status": "active"})
        assert back.status_code == 303
        adjusted, minted = await _adjust_and_mint(owner, member_id)
        assert adjusted.status_code == 303, adjusted.text[:300]
        assert minted.status_code == 201, minted.text[:300]
    assert await _balance(tenant_a, member_id) == 1010
    assert await _key_count(tenant_a) == keys_before + 1


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "This shop is suspended"),
        ("zh-HK", "這間商店已被暫停"),
        ("zh-CN", "这家店铺已被暂停"),
    ],
)
async def test_a_suspended_console_reads_with_a_banner_on_every_page(
    tenant_a: World, language: str, text: str
) -> None:
    member_id = await _member_id(tenant_a)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
    async with open_client() as client:
        client.headers["accept-language"] = language
        await login(client, tenant_a.owner.email)
        for path in ("/console", "/console/members", f"/console/members/{member_id}"):
            page = await client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            assert 'data-testid="tenant-status-banner"' in page.text, path
            assert text in page.text, path
        refused = await post_form(
            client, f"/console/members/{member_id}/profile", {"name": "Bea", "phone": ""}
        )
        assert refused.status_code == 403
        assert text in refused.text


async def test_an_active_console_has_no_banner(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        for path in ("/console", "/console/members"):
            assert 'data-testid="tenant-status-banner"' not in (await client.get(path)).text


async def test_a_suspended_shops_api_keys_read_but_do_not_write(tenant_a: World) -> None:
    member_no = await add_member(tenant_a, 500)
    reward_id = await add_reward(tenant_a)
    owner_key = await key_with_role(tenant_a, Role.owner)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
    async with open_client() as client:
        me = await client.get("/api/v1/me", headers=bearer(owner_key))
        assert me.status_code == 200 and me.json()["tenant"]["status"] == "suspended"
        assert (await client.get("/api/v1/members", headers=bearer(owner_key))).status_code == 200
        writes = [
            ("post", "/api/v1/members", {"name": "New"}),
            ("post", f"/api/v1/members/{member_no}/adjustments", {"points": 5, "reason": "x"}),
            ("post", f"/api/v1/members/{member_no}/redemptions", {"reward_id": reward_id}),
            ("post", "/api/v1/api-keys", {"name": "x", "role": "cashier"}),
        ]
        for method, path, body in writes:
            response = await client.request(method, path, json=body, headers=bearer(owner_key))
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "tenant_suspended"
        zh = await client.post(
            "/api/v1/members",
            json={"name": "New"},
            headers=bearer(owner_key, **{"accept-language": "zh-HK"}),
        )
        assert "暫停" in zh.json()["error"]["message"]
    assert await points_of(tenant_a, member_no) == 500


@pytest.mark.parametrize("status", ONBOARDING)
async def test_a_shop_not_yet_approved_sees_only_its_application_status(
    status: TenantStatus,
) -> None:
    world = await make_world("new-noodles", status)
    key = await key_with_role(world, Role.owner)
    async with open_client() as client:
        await login(client, world.owner.email)
        home = await client.get("/console")
        assert home.status_code == 200
        assert 'data-testid="application-status"' in home.text
        assert 'data-testid="quick-links"' not in home.text
        assert 'href="/console/members"' not in home.text
        for path in (
            "/console/members",
            "/console/dashboard",
            "/console/coupons",
            "/console/rewards",
            "/console/rules",
            "/console/api-keys",
            "/console/plugins",
            "/console/audit",
        ):
            assert (await client.get(path)).status_code == 403, path
        for path in ("/console/members", "/console/api-keys"):
            assert (await post_form(client, path, {"name": "x"})).status_code == 403, path
        for path in ("/api/v1/members", "/api/v1/me", "/api/v1/api-keys"):
            response = await client.get(path, headers=bearer(key))
            assert response.status_code == 403, path
            assert response.json()["error"]["code"] == "tenant_not_active"
    assert await _key_count(world) == 2  # the fixture's and ours: nothing minted


async def test_platform_admins_keep_their_pages_whatever_their_shop_status(
    admin: accounts.StaffInfo,
) -> None:
    world = await make_world("sus-shop", TenantStatus.suspended)
    with as_owner(world):
        await accounts.grant_role(admin.id, Role.owner)
    async with open_client() as client:
        await login(client, admin.email)
        assert (await client.get("/admin")).status_code == 200
        back = await post_form(client, f"/admin/tenants/{world.id}/status", {"status": "active"})
        assert back.status_code == 303
    assert (await tenant_service.get_tenant(world.id)).status == "active"


def test_the_policy_by_status() -> None:
    assert access.access_for("active") is access.TenantAccess.full
    assert access.access_for("suspended") is access.TenantAccess.read_only
    for status in ONBOARDING:
        assert access.access_for(status) is access.TenantAccess.onboarding
    assert access.access_for("no-such-status") is access.TenantAccess.onboarding  # fails closed
    assert access.can_write("active") and not access.can_write("suspended")
    assert access.can_read("suspended") and not access.can_read("rejected")


async def test_the_wallet_of_a_suspended_shop_redeems_nothing(tenant_a: World) -> None:
    """Already refused before this issue (the wallet closes with the shop); kept as a guard."""
    member = await make_member(tenant_a, 500)
    coupon = await make_coupon(tenant_a)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
    async with open_client() as client:
        response = await post_form(
            client,
            f"{path_of(tenant_a, member)}/rewards/{coupon.id}",
            {"form_token": "f" * 24},
            headers={"accept-language": "en"},
        )
        # No language from the browser: the shop's (the wallet's order, issue 14).
        shops = await post_form(
            client, f"{path_of(tenant_a, member)}/rewards/{coupon.id}", {"form_token": "f" * 24}
        )
    assert response.status_code == 403
    assert "not available" in response.text
    assert shops.status_code == 403 and "暫時未能使用" in shops.text
    assert await balance(tenant_a, member) == 500


async def test_a_suspended_shop_gets_no_replay_of_an_earlier_write(tenant_a: World) -> None:
    """DESIGN.md 5.6: the status guard runs before an Idempotency-Key replay, so a write
    stored while the shop was active is not served again once it is suspended."""
    headers = bearer(tenant_a.api_key, **{"Idempotency-Key": "join-1"})
    async with open_client() as client:
        first = await client.post("/api/v1/members", json={"name": "Amy"}, headers=headers)
        assert first.status_code == 201
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
    async with open_client() as client:
        again = await client.post("/api/v1/members", json={"name": "Amy"}, headers=headers)
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "tenant_suspended"
    assert "idempotent-replayed" not in again.headers

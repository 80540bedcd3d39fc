"""The owner's staff page (/console/staff): invite by e-mail, accept once, withdraw, remove;
owners only, each shop its own people."""

from __future__ import annotations

from typing import Any

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.settings import get_settings
from loyalchat.tenants import accounts, invitations
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import Role, StaffInvitation, TenantStatus
from tests.console_helpers import login, open_client, post_form
from tests.fakes.smtp import clear_outbox, last_link, outbox_mails
from tests.fixtures import PASSWORD, World

NEW_PASSWORD = "invited person's passphrase"


@pytest.fixture(autouse=True)
def _outbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    clear_outbox()
    yield
    clear_outbox()


async def _invite(world: World, email: str, role: str = "manager"):
    async with open_client() as client:
        await login(client, world.owner.email)
        return await post_form(client, "/console/staff/invite", {"email": email, "role": role})


async def test_an_owner_invites_a_new_person_who_sets_a_password_once(
    tenant_a: World, tenant_b: World
) -> None:
    response = await _invite(tenant_a, "New.Manager@Example.com")
    assert response.status_code == 303
    mail = outbox_mails("new.manager@example.com")
    assert len(mail) == 1 and "Alpha-Tea" in mail[0]["Subject"]
    assert mail[0]["X-Loyalchat-Tenant"] == str(tenant_a.id)
    link = last_link("new.manager@example.com", "/signup/invite?token=")
    token = link.split("token=")[1]
    async with open_client() as client:
        page = await client.get(link)
        assert page.status_code == 200 and 'name="password_confirm"' in page.text
        assert "Alpha-Tea" in page.text
        weak = await post_form(
            client,
            "/signup/invite",
            {"token": token, "password": "short", "password_confirm": "short"},
        )
        assert weak.status_code == 400
        joined = await post_form(
            client,
            "/signup/invite",
            {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        )
        assert joined.status_code == 303 and joined.headers["location"] == "/console"
        console = await client.get("/console", follow_redirects=False)
        assert console.status_code == 200 and "Alpha-Tea" in console.text
    user = await accounts.get_user_by_email("new.manager@example.com")
    assert user is not None and user.email_verified_at is not None
    assert await accounts.role_in(user.id, tenant_a.id) is Role.manager
    assert await accounts.role_in(user.id, tenant_b.id) is None
    async with open_client() as client:
        replay = await post_form(
            client,
            "/signup/invite",
            {
                "token": token,
                "password": "another passphrase",
                "password_confirm": "another passphrase",
            },
        )
        assert replay.status_code == 400 and 'data-testid="link-invalid"' in replay.text
        assert (await client.get(link)).status_code == 400
    assert await accounts.check_password("new.manager@example.com", NEW_PASSWORD) is not None


async def test_an_existing_account_signs_in_as_the_invited_address_to_accept(
    tenant_a: World, tenant_b: World
) -> None:
    await _invite(tenant_a, tenant_b.cashier.email, "cashier")
    link = last_link(tenant_b.cashier.email, "/signup/invite")
    token = link.split("token=")[1]
    async with open_client() as client:
        page = await client.get(link)
        assert "/login?next=" in page.text
        anonymous = await post_form(client, "/signup/invite", {"token": token})
        assert anonymous.status_code == 403
        await login(client, tenant_a.cashier.email)  # someone else
        wrong = await post_form(client, "/signup/invite", {"token": token})
        assert wrong.status_code == 403 and 'data-testid="wrong-account"' in wrong.text
    async with open_client() as client:
        await login(client, tenant_b.cashier.email)
        accepted = await post_form(client, "/signup/invite", {"token": token})
        assert accepted.status_code == 303
        console = await client.get("/console")
        assert "Alpha-Tea" in console.text  # now working in A (and still in B)
    assert await accounts.role_in(tenant_b.cashier.id, tenant_a.id) is Role.cashier
    assert await accounts.role_in(tenant_b.cashier.id, tenant_b.id) is Role.cashier
    assert await accounts.check_password(tenant_b.cashier.email, PASSWORD) is not None


async def test_invitation_errors_are_shown_next_to_the_fields(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        for body, field in [
            ({"email": "nope", "role": "cashier"}, "email"),
            ({"email": "x@y.example", "role": "owner"}, "role"),
            ({"email": "x@y.example", "role": "\x00"}, None),
            ({"email": tenant_a.cashier.email, "role": "manager"}, "email"),
            ({"email": "x" * 50_000 + "@y.example", "role": "cashier"}, "email"),
        ]:
            response = await post_form(client, "/console/staff/invite", body)
            assert response.status_code == 400, (body, response.status_code)
            if field:
                assert f'id="f-{field}-error"' in response.text
    assert await StaffInvitation.count() == 0 and outbox_mails() == []


async def test_reinviting_replaces_the_earlier_link_and_withdrawing_kills_it(
    tenant_a: World,
) -> None:
    await _invite(tenant_a, "twice@example.com")
    first = last_link("twice@example.com", "/signup/invite")
    await _invite(tenant_a, "twice@example.com", "cashier")
    second = last_link("twice@example.com", "/signup/invite")
    with tenant_context(tenant_a.id, Actor("system")):
        waiting = await invitations.pending()
    assert [(i.email, i.role) for i in waiting] == [("twice@example.com", Role.cashier)]
    async with open_client() as client:
        assert (await client.get(first)).status_code == 400
        assert (await client.get(second)).status_code == 200
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/staff")
        assert "twice@example.com" in page.text
        gone = await post_form(client, f"/console/staff/invitations/{waiting[0].id}/revoke")
        assert gone.status_code == 303
        again = await post_form(client, f"/console/staff/invitations/{waiting[0].id}/revoke")
        assert again.status_code == 404
    async with open_client() as client:
        assert (await client.get(second)).status_code == 400


async def test_only_the_owner_and_only_their_own_shop(tenant_a: World, tenant_b: World) -> None:
    manager = await accounts.create_staff_user("manager@alpha.test", PASSWORD)
    with tenant_context(tenant_a.id, Actor("system")):
        await accounts.grant_role(manager.id, Role.manager)
    with tenant_context(tenant_b.id, Actor("system")):
        b_invite, _ = await invitations.invite("b-only@example.com", Role.cashier, invited_by=None)
    async with open_client() as client:
        anonymous = await client.get("/console/staff", follow_redirects=False)
        assert anonymous.status_code in (302, 303, 401)
        for email in (tenant_a.cashier.email, manager.email):
            await login(client, email)
            assert (await client.get("/console/staff")).status_code == 403
            refused = await post_form(
                client, "/console/staff/invite", {"email": "z@z.example", "role": "cashier"}
            )
            assert refused.status_code == 403
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/staff")
        assert page.status_code == 200
        assert tenant_a.cashier.email in page.text and tenant_b.cashier.email not in page.text
        assert "b-only@example.com" not in page.text
        other = await post_form(client, f"/console/staff/{tenant_b.cashier.id}/remove")
        assert other.status_code == 404
        other_invite = await post_form(client, f"/console/staff/invitations/{b_invite.id}/revoke")
        assert other_invite.status_code == 404
        myself = await post_form(client, f"/console/staff/{tenant_a.owner.id}/remove")
        assert myself.status_code == 303
        removed = await post_form(client, f"/console/staff/{manager.id}/remove")
        assert removed.status_code == 303
    assert await accounts.role_in(tenant_b.cashier.id, tenant_b.id) is Role.cashier
    assert await accounts.role_in(tenant_a.owner.id, tenant_a.id) is Role.owner
    assert await accounts.role_in(manager.id, tenant_a.id) is None
    with tenant_context(tenant_b.id, Actor("system")):
        assert [i.id for i in await invitations.pending()] == [b_invite.id]


async def test_a_removed_person_loses_the_console(tenant_a: World) -> None:
    async with open_client() as cashier, open_client() as owner:
        await login(cashier, tenant_a.cashier.email)
        assert (await cashier.get("/console", follow_redirects=False)).status_code == 200
        await login(owner, tenant_a.owner.email)
        await post_form(owner, f"/console/staff/{tenant_a.cashier.id}/remove")
        after = await cashier.get("/console/members", follow_redirects=False)
        assert after.status_code in (302, 303, 403)


async def test_a_suspended_shop_reads_its_staff_but_invites_nobody(tenant_a: World) -> None:
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="test")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        assert (await client.get("/console/staff")).status_code == 200
        refused = await post_form(
            client, "/console/staff/invite", {"email": "s@s.example", "role": "cashier"}
        )
        assert refused.status_code == 403
    assert outbox_mails() == []


async def test_forged_and_odd_invitation_tokens(tenant_a: World) -> None:
    from loyalchat.tenants import account_tokens

    with tenant_context(tenant_a.id, Actor("system")):
        invitation, token = await invitations.invite("f@example.com", Role.cashier, invited_by=None)
    wrong_nonce = account_tokens.make(
        account_tokens.STAFF_INVITE, {"i": invitation.id, "n": "guess"}
    )
    other_kind = account_tokens.make(account_tokens.VERIFY_EMAIL, {"i": invitation.id, "n": "x"})
    async with open_client() as client:
        for bad in [token[:-2] + "zz", wrong_nonce, other_kind, "", "%00", "B" * 2000]:
            response = await client.get(f"/signup/invite?token={bad}")
            assert response.status_code == 400, bad[:30]
            posted = await post_form(
                client,
                "/signup/invite",
                {"token": bad, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
            )
            assert posted.status_code == 400
    assert await accounts.get_user_by_email("f@example.com") is None


async def test_a_shop_not_yet_approved_and_a_shopless_admin_get_no_staff_page(
    tenant_a: World, admin: accounts.StaffInfo
) -> None:
    await tenant_service.set_status(tenant_a.id, TenantStatus.pending_review, reason="test")
    async with open_client() as client:
        anonymous = await post_form(
            client, "/console/staff/invite", {"email": "a@a.example", "role": "cashier"}
        )
        assert anonymous.status_code in (302, 303, 401, 403)
        for email in (tenant_a.owner.email, admin.email):
            await login(client, email)
            assert (await client.get("/console/staff")).status_code == 403
            refused = await post_form(
                client, "/console/staff/invite", {"email": "a@a.example", "role": "cashier"}
            )
            assert refused.status_code == 403
    assert await StaffInvitation.count() == 0 and outbox_mails() == []

"""Staff accounts: argon2id hashes and roles per tenant (login throttling: test_login_hardening)."""

from __future__ import annotations

from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import accounts
from loyalchat.tenants.tables import Role, StaffUser
from tests.fixtures import PASSWORD, World


async def test_passwords_are_argon2id_and_checked(tenant_a: World) -> None:
    row = (
        await StaffUser.select(StaffUser.password_hash)
        .where(StaffUser.id == tenant_a.owner.id)
        .first()
    )
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert await accounts.check_password("OWNER@alpha-tea.test ", PASSWORD) is not None
    assert await accounts.check_password(tenant_a.owner.email, PASSWORD + "x") is None
    assert await accounts.check_password("nobody@nowhere.test", PASSWORD) is None
    assert await accounts.check_password("not an email", PASSWORD) is None


async def test_weak_password_and_duplicate_email_refused(clean_db) -> None:
    import pytest

    with pytest.raises(accounts.AccountError, match="at least"):
        await accounts.create_staff_user("a@b.test", "short")
    await accounts.create_staff_user("a@b.test", PASSWORD)
    with pytest.raises(accounts.AccountError, match="exists"):
        await accounts.create_staff_user("A@B.test", PASSWORD)


async def test_roles_are_per_tenant(tenant_a: World, tenant_b: World) -> None:
    with tenant_context(tenant_b.id, Actor("system")):
        await accounts.grant_role(tenant_a.owner.id, Role.cashier)
    found = {m.slug: m.role for m in await accounts.memberships(tenant_a.owner.id)}
    assert found == {"alpha-tea": Role.owner, "bravo-bakery": Role.cashier}
    assert Role.owner.covers(Role.manager) and not Role.cashier.covers(Role.manager)

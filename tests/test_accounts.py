"""Staff accounts: argon2id hashes, login throttling (memory and Redis), roles per tenant."""

from __future__ import annotations

import redis

from loyalchat.context import Actor, tenant_context
from loyalchat.settings import Settings
from loyalchat.tenants import accounts
from loyalchat.tenants.tables import Role, StaffUser
from loyalchat.tenants.throttle import LoginThrottle, MemoryCounter, RedisCounter
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


async def _exercise(throttle: LoginThrottle) -> None:
    ip = "203.0.113.9"
    for _ in range(throttle.max_failures - 1):
        await throttle.failed("victim@shop.test", ip)
    assert not await throttle.is_locked("victim@shop.test", ip)
    await throttle.failed("victim@shop.test", ip)
    assert await throttle.is_locked("victim@shop.test", ip)
    assert await throttle.is_locked("VICTIM@shop.test", "198.51.100.1"), "per-account lock"
    assert not await throttle.is_locked("other@shop.test", "198.51.100.1")
    # Per IP: many accounts from one address.
    for n in range(throttle.max_ip_failures):
        await throttle.failed(f"user{n}@shop.test", "192.0.2.50")
    assert await throttle.is_locked("fresh@shop.test", "192.0.2.50")


async def test_throttle_in_memory() -> None:
    await _exercise(LoginThrottle(MemoryCounter(), Settings(login_max_failures=3)))


async def test_throttle_in_redis(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    throttle = LoginThrottle(RedisCounter(redis_url), Settings(login_max_failures=3))
    await _exercise(throttle)
    # Shared state: a second instance (another web process) sees the same lock.
    other = LoginThrottle(RedisCounter(redis_url), Settings(login_max_failures=3))
    assert await other.is_locked("victim@shop.test", "203.0.113.200")
    ttl = redis.Redis.from_url(redis_url).ttl("loyalchat:throttle:acct:victim@shop.test")
    assert 0 < ttl <= 900

"""One member's concurrent writes share a transaction, each still all or nothing.

On the real PostgreSQL test database: the writes are real ledger credits, the
transaction ids are PostgreSQL's own (``txid_current()``).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from loyalchat import db
from loyalchat.context import tenant_context
from loyalchat.domain import DomainError
from loyalchat.ledger import figures, member_batches
from loyalchat.ledger import service as ledger
from loyalchat.rewards import service as rewards
from tests.fixtures import World
from tests.reward_helpers import OWNER, balance, make_member, make_reward, pooled, refused


async def _txid() -> int:
    rows = await db.current_engine().run_ddl("SELECT txid_current() AS id")
    return rows[0]["id"]


def _credit(member: int, key: str, points: int = 10, *, fail: bool = False):
    async def work() -> int:
        await ledger.earn(member, points, key=key, reason="test")
        if fail:  # after writing: the write must vanish with it
            raise DomainError("refused after writing", code="refused")
        return await _txid()

    return work


async def test_a_members_concurrent_writes_share_transactions_and_all_commit(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(0)
        async with pooled():
            txids = await asyncio.gather(
                *(member_batches.run(member, _credit(member, f"b:{i}")) for i in range(20))
            )
        assert await balance(member) == 200
        assert len(set(txids)) < 20  # fewer commits than writes
        assert (await figures.audit_member(member)).ok


async def test_a_failing_write_leaves_nothing_and_the_others_are_kept(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(0)
        async with pooled():
            results = await asyncio.gather(
                *(
                    member_batches.run(member, _credit(member, f"f:{i}", fail=i % 3 == 1))
                    for i in range(12)
                ),
                return_exceptions=True,
            )
        failed = [i for i, r in enumerate(results) if isinstance(r, DomainError)]
        assert failed == [1, 4, 7, 10]
        assert await balance(member) == 8 * 10
        for i in range(12):
            entry = await ledger.entry_by_key(f"f:{i}") if i not in failed else None
            assert (entry is not None) == (i not in failed)
        assert (await figures.audit_member(member)).ok


async def test_a_caller_gone_before_its_write_ran_writes_nothing(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(0)
        release = asyncio.Event()
        ran: list[str] = []

        async def slow() -> None:
            await ledger.earn(member, 5, key="slow", reason="test")
            await release.wait()
            ran.append("slow")

        async def later() -> None:
            await ledger.earn(member, 7, key="later", reason="test")
            ran.append("later")

        async with pooled():
            first = asyncio.create_task(member_batches.run(member, slow))
            await asyncio.sleep(0.2)
            second = asyncio.create_task(member_batches.run(member, later))
            await asyncio.sleep(0)
            second.cancel()
            release.set()
            await first
            await asyncio.gather(second, return_exceptions=True)
        assert ran == ["slow"]
        assert await balance(member) == 5
        assert await ledger.entry_by_key("later") is None


async def test_inside_a_callers_transaction_the_write_is_the_callers(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(0)

        async def credit_then_fail() -> None:
            async with db.write_transaction():
                await member_batches.run(member, _credit(member, "nested"))
                raise DomainError("caller changes its mind", code="refused")

        try:
            await credit_then_fail()
        except DomainError:
            pass
        assert await balance(member) == 0
        assert await ledger.entry_by_key("nested") is None


async def test_a_refused_redemption_inside_a_callers_transaction_leaves_no_grant(
    tenant_a: World,
) -> None:
    """A chat turn runs in a transaction of its own: a redemption refused there (too few
    points) must leave no grant row, which a retry would otherwise answer as a replay: a
    coupon with no points taken. The caller's own writes before it are kept."""
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(50)
        reward = await make_reward(points_cost=100)

        async def turn() -> tuple[str, str]:
            async with db.write_transaction():
                await ledger.earn(member, 5, key="turn:before", reason="kept")
                first = await refused(rewards.redeem(member, reward.id, key="chat:1"))
                again = await refused(rewards.redeem(member, reward.id, key="chat:1"))
                return first.code, again.code

        assert await turn() == ("insufficient_points", "insufficient_points")
        assert await rewards.grant_by_key("chat:1") is None
        assert await balance(member) == 55
        assert (await figures.audit_member(member)).ok


async def test_hot_member_redemptions_with_twin_keys_and_short_points(tenant_a: World) -> None:
    """Balance 1,000 and cost 70 on an unlimited reward; 40 requests at once, ten of them
    the same key: 14 grants, the ten twins answered with one grant, nothing lost."""
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(points_cost=70)
        member = await make_member(1000)
        keys = [f"hot:{i}" for i in range(30)] + ["twin"] * 10

        async def one(key: str):
            try:
                return await rewards.redeem(member, reward.id, key=key)
            except DomainError as exc:
                return exc.code

        async with pooled():
            results = await asyncio.gather(*(one(k) for k in keys))
        grants = [r for r in results if not isinstance(r, str)]
        assert {r for r in results if isinstance(r, str)} <= {"insufficient_points"}
        twins = [r for k, r in zip(keys, results, strict=True) if k == "twin"]
        if not isinstance(twins[0], str):
            assert len({t.id for t in twins}) == 1
        assert len({g.id for g in grants}) == 14
        assert await balance(member) == 1000 - 14 * 70
        assert len(await rewards.member_grants(member)) == 14
        assert (await figures.audit_member(member)).ok


def _worker(url: str, tenant_id: int, member: int, reward_id: int, prefix: str) -> list[str]:
    """A separate process, as a second web worker would be: its own pool and batches."""
    return asyncio.run(_worker_async(url, tenant_id, member, reward_id, prefix))


async def _worker_async(
    url: str, tenant_id: int, member: int, reward_id: int, prefix: str
) -> list[str]:
    from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
    from loyalchat.settings import get_settings
    from tests.reward_helpers import attempt

    os.environ["LOYALCHAT_DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = db.configure_database()
    await engine.start_connection_pool(min_size=2, max_size=8)
    try:
        with use_plugin_manager(build_plugin_manager()), tenant_context(tenant_id, OWNER):
            return await asyncio.gather(
                *(attempt(member, reward_id, f"{prefix}:{i}") for i in range(32))
            )
    finally:
        await engine.close_connection_pool()


async def test_two_worker_processes_redeeming_for_one_member_take_exactly_the_points(
    tenant_a: World, pg_url: str
) -> None:
    """Balance 1,000, cost 70, 32 redemptions from each of two processes at once: their
    batches contend for the member's row lock, and exactly 14 succeed."""
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(points_cost=70)
        member = await make_member(1000)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        runs = [
            loop.run_in_executor(pool, _worker, pg_url, tenant_a.id, member, reward.id, p)
            for p in ("w1", "w2")
        ]
        results = [code for run in await asyncio.gather(*runs) for code in run]
    assert results.count("ok") == 14
    assert results.count("insufficient_points") == 50
    with tenant_context(tenant_a.id, OWNER):
        assert await balance(member) == 1000 - 14 * 70
        assert len(await rewards.member_grants(member)) == 14
        assert (await figures.audit_member(member)).ok

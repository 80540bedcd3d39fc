"""Bad input in the services, whoever calls them: balances past their column's range,
numbers typed with full-width digits, text holding NUL or control characters.

On PostgreSQL (the test database) and, for the balances, SQLite too.
"""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.rewards.tables import Reward
from tests.api_support import SYSTEM, add_member, points_of
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World


async def count(table) -> int:
    return await table.count()


def code_of(response) -> str:
    return response.json()["error"]["code"]


# -- balances past their column's range -------------------------------------------------


async def test_the_22nd_adjustment_of_100_million_is_refused(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    path = f"/api/v1/members/{member_no}/adjustments"
    for _ in range(21):  # 2,100,000,000: still inside a 32-bit integer
        done = await client.post(path, json={"points": 100_000_000, "reason": "bulk"})
        assert done.status_code == 201, done.text
    entries = await count(LedgerEntry)
    refused = await client.post(path, json={"points": 100_000_000, "reason": "bulk"})
    assert refused.status_code == 409, refused.text
    assert code_of(refused) == "balance_out_of_range"
    assert await points_of(tenant_a, member_no) == 2_100_000_000
    assert await count(LedgerEntry) == entries
    taken = await client.post(path, json={"points": -100, "reason": "still works"})
    assert taken.status_code == 201


async def _member_near_the_top(world: World, points: int, stored: str) -> int:
    from decimal import Decimal

    member_no = await add_member(world)
    with tenant_context(world.id, SYSTEM):
        await Member.update({Member.points: points, Member.stored_value: Decimal(stored)}).where(
            (Member.member_no == member_no) & (Member.tenant == world.id)
        )
        row = await Member.select(Member.id).where(Member.member_no == member_no).first()
    return row["id"]


async def _refuses_growth_past_the_column(world: World) -> None:
    from loyalchat.bounds import INT32_MAX, BalanceOutOfRange
    from loyalchat.ledger import service as ledger
    from loyalchat.ledger import stored_value

    member = await _member_near_the_top(world, INT32_MAX - 10, "999999999999.00")
    with tenant_context(world.id, SYSTEM):
        with pytest.raises(BalanceOutOfRange):
            await ledger.earn(member, 11, key="over")
        assert (await ledger.earn(member, 10, key="to-the-top")).balance_after == INT32_MAX
        with pytest.raises(BalanceOutOfRange):
            await stored_value.top_up(member, "1.00", key="too-much")
        assert (
            await stored_value.top_up(member, "0.99", key="fits")
        ).balance_after == stored_value.Decimal("999999999999.99")
        assert (await ledger.entry_by_key("over")) is None
        assert (await stored_value.entry_by_key("too-much")) is None


async def test_balances_stay_inside_their_columns_on_postgresql(tenant_a: World) -> None:
    await _refuses_growth_past_the_column(tenant_a)


async def test_balances_stay_inside_their_columns_on_sqlite(sqlite_db) -> None:
    from tests.fixtures import make_world

    await _refuses_growth_past_the_column(await make_world("sqlite-tea"))


# -- console numbers: ASCII digits, inside the column ------------------------------------


def test_console_fields_read_ascii_digits_only_and_stay_in_range() -> None:
    from loyalchat.frontend.pages.common import form_fields as ff

    for bad in ("１００", "١٠٠", "1e3"):
        with pytest.raises(ff.FieldError):
            ff.whole({"n": bad}, "n")
        with pytest.raises(ff.FieldError):
            ff.amount({"n": bad}, "n")
        with pytest.raises(ff.FieldError):
            ff.decimal({"n": bad}, "n")
    with pytest.raises(ff.FieldError, match="Too large"):
        ff.whole({"n": "3000000000"}, "n")
    with pytest.raises(ff.FieldError, match="Too small"):
        ff.whole({"n": "-3000000000"}, "n")
    with pytest.raises(ff.FieldError):
        ff.amount({"n": "9999999999999"}, "n")  # 13 digits: past Numeric(14, 2)
    assert ff.whole({"n": "2,147,483,647"}, "n") == 2**31 - 1
    assert str(ff.amount({"n": "HK$ 1,000.50"}, "n")) == "1000.50"
    assert str(ff.decimal({"n": "-0.25"}, "n")) == "-0.25"


async def test_console_forms_refuse_full_width_and_huge_numbers(tenant_a: World) -> None:
    from tests.console_helpers import form_tokens
    from tests.wallet_helpers import make_member

    member = await make_member(tenant_a)
    async with open_client() as web:
        await login(web, tenant_a.owner.email)
        page = await web.get(f"/console/members/{member.id}")
        token = form_tokens(page.text)[1]
        adjusted = await post_form(
            web,
            f"/console/members/{member.id}/adjustments",
            {"token": token, "points": "１００", "reason": "full width"},
        )
        rule = await post_form(
            web,
            "/console/rules",
            {"name": "Cap", "kind": "ratio", "points_per_unit": "1", "per_receipt_cap": "9" * 12},
        )
    assert adjusted.status_code == 400 and rule.status_code == 400
    assert await count(LedgerEntry) == 0


async def test_the_stored_value_service_refuses_full_width_amounts(tenant_a: World) -> None:
    from loyalchat.domain import DomainError
    from loyalchat.ledger import stored_value

    member = await _member_near_the_top(tenant_a, 0, "0")
    with tenant_context(tenant_a.id, SYSTEM):
        with pytest.raises(DomainError, match="not an amount"):
            await stored_value.top_up(member, "１００", key="full-width")
        assert (
            await stored_value.top_up(member, "100", key="ascii")
        ).amount == stored_value.Decimal("100.00")


# -- services refuse text nothing can store, whoever calls them ---------------------------


async def test_services_refuse_nul_and_control_characters(tenant_a: World) -> None:
    from loyalchat.bounds import InvalidCharacter
    from loyalchat.domain import DomainError
    from loyalchat.ledger import service as ledger
    from loyalchat.ledger import stored_value
    from loyalchat.members import service as members
    from loyalchat.members.schemas import MemberCreate
    from loyalchat.rewards import service as rewards
    from loyalchat.rewards.schemas import RewardCreate
    from loyalchat.rules import service as rules
    from loyalchat.rules.schemas import RuleCreate

    member = await _member_near_the_top(tenant_a, 0, "0")
    coupon = {"points_cost": 1, "type": "coupon", "options": {"benefit": "Coffee"}}
    with tenant_context(tenant_a.id, SYSTEM):
        for name in ("x\u0000", {"en": "Tea", "zh-Hant": "茶\x07"}):
            with pytest.raises(DomainError) as refused:
                await rewards.create_reward(RewardCreate(**{**coupon, "name": name}))
            assert refused.value.code == "invalid_reward"
        with pytest.raises(DomainError, match="control characters"):
            await rewards.create_reward(
                RewardCreate(**{**coupon, "name": "Tea", "options": {"benefit": "a\x00"}})
            )
        with pytest.raises(InvalidCharacter):
            await ledger.adjust(member, 5, key="nul-reason", reason="typo\x00")
        with pytest.raises(InvalidCharacter):
            await ledger.earn(member, 5, key="nul-ref", reference="POS\x1b1")
        with pytest.raises(InvalidCharacter):
            await stored_value.top_up(member, "5", key="nul-top-up", reason="\x00")
        with pytest.raises(InvalidCharacter):
            await members.create_member(MemberCreate(name="Chan", notes="call\x00me"))
        with pytest.raises(InvalidCharacter):
            await members.create_member(MemberCreate(name="Chan", email="a\x00@b.test"))
        with pytest.raises(InvalidCharacter):
            await rules.create_rule(
                RuleCreate(name="Base\x00", kind="ratio", points_per_unit=stored_value.Decimal(1))
            )
        # Line breaks stay fine where text may have lines.
        entry = await ledger.adjust(member, 5, key="multi-line", reason="two\nlines")
        assert entry.reason == "two\nlines"
        assert (await members.create_member(MemberCreate(name="Li", notes="a\nb"))).notes == "a\nb"
    assert await count(Reward) == 0


async def test_shop_and_api_key_names_refuse_control_characters(tenant_a: World) -> None:
    from loyalchat.tenants import apikeys
    from loyalchat.tenants import service as tenant_service
    from loyalchat.tenants.tables import Role, Tenant

    with tenant_context(tenant_a.id, SYSTEM):
        with pytest.raises(apikeys.ApiKeyError):
            await apikeys.create_key("till\x00", Role.cashier)
    with pytest.raises(tenant_service.TenantError):
        await tenant_service.create_tenant("nul-shop", "Shop\x00")
    assert not await Tenant.exists().where(Tenant.slug == "nul-shop")
    shop = await tenant_service.create_tenant("space-shop", "茶\u3000館")  # a wide space is fine
    assert shop.display_name == "茶\u3000館"


async def test_points_computed_from_a_huge_purchase_are_refused_not_stored(
    client: AsyncTestClient, tenant_a: World
) -> None:
    from tests.api_support import one_point_per_ten_dollars

    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a)
    response = await client.post(
        f"/api/v1/members/{member_no}/purchases",
        json={"amount": "999999999999.99", "reference": "HUGE-1"},
    )
    assert response.status_code == 422 and code_of(response) == "invalid_points"
    assert await count(LedgerEntry) == 0 and await points_of(tenant_a, member_no) == 0

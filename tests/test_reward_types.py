"""The first-party reward types: ``coupon`` (code + QR) and ``stored_value``; grant codes."""

from __future__ import annotations

import io
import secrets
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import zxingcpp
from PIL import Image

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError
from loyalchat.extensions.rewards import Grant, RewardType, get_reward_types
from loyalchat.ledger import service as ledger
from loyalchat.ledger import stored_value as ledger_value
from loyalchat.ledger.tables import StoredValueEntry
from loyalchat.members.tables import Member
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.plugins import coupon, stored_value
from loyalchat.rewards import codes, qr
from loyalchat.rewards import service as rewards
from loyalchat.scoping import new_row, scoped_select
from tests.fixtures import World

OWNER = Actor("staff", 1, "Owner")
CASHIER = Actor("staff", 2, "Cashier Amy")
_seq = iter(range(1, 10**6))


async def make_member(points: int) -> int:
    seq = next(_seq)
    row = new_row(Member, member_no=f"V{seq:06d}", seq=seq, name="Wong Siu Ming")
    await row.save()
    await ledger.earn(row.id, points, key=f"seed:{row.id}")
    return row.id


async def stored(member_id: int) -> Decimal:
    row = await scoped_select(Member, Member.stored_value).where(Member.id == member_id).first()
    return Decimal(row["stored_value"])


def grant(options: dict, data: dict | None = None) -> Grant:
    return Grant(
        tenant_id=1, grant_id=7, reward_id=3, member_id=5, options=options, data=data or {}
    )


# --- registration ------------------------------------------------------------------------


def test_both_types_come_through_the_entry_points() -> None:
    types = get_reward_types(build_plugin_manager())
    assert types.owner("coupon") == "coupon"
    assert types.owner("stored_value") == "stored_value"
    for kind in ("coupon", "stored_value"):
        assert isinstance(types[kind], RewardType)


def test_each_plugin_registers_alone() -> None:
    pm = build_plugin_manager(load_entrypoints=False, plugins={"stored_value": stored_value})
    assert list(get_reward_types(pm)) == ["stored_value"]
    option = get_reward_types(pm)["stored_value"].option_fields[0]
    assert (option.name, option.required) == ("amount", True)


# --- codes -------------------------------------------------------------------------------


def test_codes_use_an_unambiguous_alphabet() -> None:
    drawn = {codes.new_code() for _ in range(2000)}
    assert len(drawn) == 2000
    assert all(len(code) == 8 for code in drawn)
    used = set("".join(drawn))
    assert used <= set(codes.ALPHABET)
    assert not used & set("01IO")


@pytest.mark.parametrize(
    "typed", ["abcd-efgh", " ABCD EFGH ", "LCG:ABCDEFGH", "lcg:abcd-efgh", "ＡＢＣＤ－ＥＦＧＨ"]
)
def test_typed_and_scanned_codes_normalize(typed: str) -> None:
    assert codes.normalize(typed) == "ABCDEFGH"


def test_display_splits_a_code_for_reading_aloud() -> None:
    assert codes.display("ABCDEFGH") == "ABCD-EFGH"
    assert codes.normalize(codes.display("ABCDEFGH")) == "ABCDEFGH"


# --- coupon ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ABCDEFGH", "23456789", "ZZZZ2222"])
def test_coupon_qr_png_scans_back_to_the_payload(code: str) -> None:
    png = qr.qr_png(code)
    assert png.startswith(b"\x89PNG")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [item.text for item in found] == [f"LCG:{code}"]
    assert codes.normalize(found[0].text) == code


def test_coupon_qr_svg_is_a_scalable_document_of_the_same_code() -> None:
    svg = qr.qr_svg("ABCDEFGH")
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag.endswith("svg")
    assert root.find(".//{http://www.w3.org/2000/svg}path") is not None
    assert qr.qr_svg("ABCDEFGH") == svg
    assert qr.qr_svg("ABCDEFGJ") != svg


async def test_coupon_issues_the_benefit_and_describes_it_per_language() -> None:
    kind = coupon.CouponReward()
    issued = await kind.issue(grant({"benefit": "免费咖啡一杯", "terms": ""}))
    assert issued.code == "" and issued.data == {"benefit": "免费咖啡一杯", "terms": ""}
    held = grant({}, dict(issued.data))
    assert await kind.describe(held, "zh-Hant") == "優惠券：免費咖啡一杯"
    assert await kind.describe(held, "zh-Hans") == "优惠券：免费咖啡一杯"
    assert await kind.describe(held, "en") == "Coupon: 免费咖啡一杯"
    with_terms = grant({"benefit": "HK$20 off", "terms": "spend HK$100"})
    assert await kind.describe(with_terms, "en") == "Coupon: HK$20 off (spend HK$100)"
    assert await kind.mark_used(held) is None


async def test_a_coupon_needs_its_benefit(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        with pytest.raises(DomainError) as err:
            await rewards.create_reward({"name": "Coupon", "points_cost": 5, "type": "coupon"})
        assert err.value.code == "invalid_reward"
        assert "Benefit" in err.value.extra["errors"]["options"]


# --- stored value ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["", "abc", "0", "-5", "1.234", "NaN", 10.5])
async def test_stored_value_amount_must_be_money(tenant_a: World, amount) -> None:
    with tenant_context(tenant_a.id, OWNER):
        with pytest.raises(DomainError) as err:
            await rewards.create_reward(
                {
                    "name": "HK$50",
                    "points_cost": 500,
                    "type": "stored_value",
                    "options": {"amount": amount},
                }
            )
        assert err.value.code == "invalid_reward"


async def test_stored_value_reward_credits_at_once_and_is_used(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await rewards.create_reward(
            {
                "name": {"zh-Hant": "會員卡金額 $50", "en": "HK$50 stored value"},
                "points_cost": 500,
                "type": "stored_value",
                "options": {"amount": Decimal("50")},
                "stock": 3,
            }
        )
        assert reward.options == {"amount": "50.00"}
        member = await make_member(1200)
        await ledger_value.top_up(member, "10.50", key="topup:1")
        with tenant_context(tenant_a.id, CASHIER):
            held = await rewards.redeem(member, reward.id, key="wallet:9")
        assert (held.status, held.used_by_label) == ("used", "Cashier Amy")
        assert held.data["amount"] == "50.00"
        assert held.description == "會員卡金額 50.00"
        assert await stored(member) == Decimal("60.50")
        assert await ledger_points(member) == 700

        again = await rewards.redeem(member, reward.id, key="wallet:9")
        assert again.replayed and await stored(member) == Decimal("60.50")
        entries = await scoped_select(StoredValueEntry).where(
            StoredValueEntry.idempotency_key == f"grant:{held.id}"
        )
        assert [(e["kind"], e["reference"]) for e in entries] == [("grant", f"grant:{held.id}")]

        for call in (rewards.use_grant(held.code), rewards.void_grant(held.code, "undo")):
            with pytest.raises(DomainError) as err:
                await call
            assert err.value.code == "already_used"
        assert await rewards.expire_grants() == 0


async def test_a_stored_value_redemption_without_points_credits_nothing(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await rewards.create_reward(
            {
                "name": "HK$20",
                "points_cost": 300,
                "type": "stored_value",
                "options": {"amount": "20"},
            }
        )
        member = await make_member(299)
        with pytest.raises(DomainError) as err:
            await rewards.redeem(member, reward.id, key=secrets.token_hex(4))
        assert err.value.code == "insufficient_points"
        assert await stored(member) == Decimal("0")
        assert await rewards.member_grants(member) == []


async def test_stored_value_describes_in_each_language() -> None:
    kind = stored_value.StoredValueReward()
    held = grant({"amount": "1000.00"}, {"amount": "1000.00"})
    assert await kind.describe(held, "zh-Hant") == "會員卡金額 1,000.00"
    assert await kind.describe(held, "zh-Hans") == "会员卡余额 1,000.00"
    assert await kind.describe(held, "en-GB") == "Stored value 1,000.00"


async def ledger_points(member_id: int) -> int:
    row = await scoped_select(Member, Member.points).where(Member.id == member_id).first()
    return row["points"]

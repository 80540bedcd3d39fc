"""A member's history and the audit log in words (issue 14, "Human history and logs").

The history rows (loyalchat.purchases.history) carry what a reader needs: the purchase's
amount and receipt, the reward's name in the reader's language (not the English one the
entry stores), who adjusted and why. The console and the wallet word them; the audit
log filters by kind and person and never shows another tenant's entries.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.ledger import service as ledger
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate, MemberUpdate
from loyalchat.purchases import history
from loyalchat.purchases import service as purchases
from loyalchat.rewards import service as rewards
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.tenants import audit
from tests.console_helpers import as_owner, login, open_client
from tests.fixtures import World

LANG = {"zh-HK": "zh-Hant", "zh-CN": "zh-Hans", "en": "en"}
COFFEE = {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"}


async def _story(world: World) -> int:
    """A member who bought for HK$88.50 (receipt POS-123), redeemed a coffee and got a
    birthday gift from the owner; returns the member id."""
    with as_owner(world):
        await rules.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(2))
        )
        reward = await rewards.create_reward(
            {"name": COFFEE, "points_cost": 50, "type": "coupon", "options": {"benefit": "x"}}
        )
        member = await members.create_member(MemberCreate(name="Chan Tai Man"))
        await purchases.record_purchase(member.id, Decimal("88.50"), reference="POS-123")
        await rewards.redeem(member.id, reward.id, key="test:redeem")
        await purchases.adjust_points(member.id, 30, key="adjust:gift", reason="birthday gift")
    return member.id


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize(
    ("locale", "name"), [("zh-Hant", "免費咖啡"), ("zh-Hans", "免费咖啡"), ("en", "Free coffee")]
)
async def test_rows_say_what_happened_in_the_readers_language(
    tenant_a: World, locale: str, name: str
) -> None:
    member_id = await _story(tenant_a)
    with as_owner(tenant_a):
        page = await history.points_history(member_id, locale)
    gift, redeemed, purchase = page.items
    assert (purchase.event, purchase.amount, purchase.receipt) == (
        "purchase",
        Decimal("88.50"),
        "POS-123",
    )
    assert purchase.points == 177 and purchase.key == "purchase:POS-123"
    assert (redeemed.event, redeemed.reward, redeemed.points) == ("redeem", name, -50)
    assert (gift.event, gift.note, gift.points) == ("adjust", "birthday gift", 30)
    assert gift.actor == history.Actor("staff", "Owner")


async def test_a_console_purchase_without_receipt_shows_no_made_up_reference(
    tenant_a: World,
) -> None:
    with as_owner(tenant_a):
        await rules.create_rule(RuleCreate(name="B", kind=RuleKind.ratio, points_per_unit=1))
        member = await members.create_member(MemberCreate(name="Amy"))
        await purchases.record_purchase(member.id, Decimal(12), reference="console-AbC123")
        await ledger.earn(member.id, 5, key="bonus:1", reason="welcome bonus")
        rows = (await history.points_history(member.id, "en")).items
    assert [(r.event, r.receipt, r.note) for r in rows] == [
        ("earn", "", "welcome bonus"),
        ("purchase", "", ""),
    ]


async def test_merged_points_name_the_other_member(tenant_a: World) -> None:
    with as_owner(tenant_a):
        keep = await members.create_member(MemberCreate(name="Keep"))
        gone = await members.create_member(MemberCreate(name="Gone"))
        await ledger.earn(gone.id, 40, key="earn:gone")
        await purchases.merge_members(keep.member_no, gone.member_no, "joined twice")
        into = (await history.points_history(keep.id, "en")).items[0]
        out = (await history.points_history(gone.id, "en")).items[0]
    assert (into.event, into.other_member, into.note) == (
        "merge_in",
        gone.member_no,
        "joined twice",
    )
    assert (out.event, out.other_member) == ("merge_out", keep.member_no)


@pytest.mark.parametrize(
    ("language", "purchase", "redeemed", "adjusted"),
    [
        ("zh-HK", "消費 HK$88.50，收據 POS-123", "已兌換 免費咖啡", "由 Owner 調整：birthday gift"),
        ("zh-CN", "消费 HK$88.50，收据 POS-123", "已兑换 免费咖啡", "由 Owner 调整：birthday gift"),
        ("en", "Purchase HK$88.50, receipt POS-123", "Redeemed Free coffee", "Adjusted by Owner"),
    ],
)
async def test_console_history_reads_as_sentences_without_keys(
    tenant_a: World, language: str, purchase: str, redeemed: str, adjusted: str
) -> None:
    member_id = await _story(tenant_a)
    async with open_client() as client:
        await client.get(f"/lang/{LANG[language]}")
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/members/{member_id}")
    assert page.status_code == 200
    whats = [_text(m) for m in re.findall(r'data-testid="history-what">(.*?)</p>', page.text)]
    assert purchase in whats[2] and redeemed in whats[1] and adjusted in whats[0], whats
    assert not any("purchase:" in w or "grant:" in w for w in whats)
    assert "<code>purchase:POS-123</code>" in page.text  # in the row's details only


@pytest.mark.parametrize(
    ("locale", "redeemed", "adjusted"),
    [
        ("zh-Hant", "已兌換 免費咖啡", "店舖調整：birthday gift"),
        ("zh-Hans", "已兑换 免费咖啡", "店铺调整：birthday gift"),
        ("en", "Redeemed Free coffee", "Adjusted by the shop: birthday gift"),
    ],
)
async def test_wallet_history_names_the_reward_and_hides_staff_and_keys(
    tenant_a: World, locale: str, redeemed: str, adjusted: str
) -> None:
    member_id = await _story(tenant_a)
    with as_owner(tenant_a):
        member = await members.get_member_by_id(member_id)
        await members.update_member(member.member_no, MemberUpdate(locale=locale))
    path = links.PATH_PREFIX + links.make_token(tenant_a.id, member_id)
    async with open_client() as client:
        page = await client.get(f"{path}/history")
    assert page.status_code == 200
    whats = [_text(m) for m in re.findall(r'data-testid="history-what">(.*?)</span>', page.text)]
    assert redeemed in whats[1] and adjusted in whats[0], whats
    assert "88.50" in whats[2] and "POS-123" in whats[2]
    for hidden in ("purchase:", "grant:", "adjust:gift", "Owner"):
        assert hidden not in page.text


# -- the audit log ----------------------------------------------------------------------------


async def _log(world: World) -> None:
    """A sign-in, a reward created by the owner and a member added by the cashier."""
    with tenant_context(world.id, Actor("staff", world.owner.id, world.owner.email)):
        await audit.record("staff.login", f"staff:{world.owner.id}")
        await rewards.create_reward(
            {"name": COFFEE, "points_cost": 50, "type": "coupon", "options": {"benefit": "x"}}
        )
    with tenant_context(world.id, Actor("staff", world.cashier.id, world.cashier.email)):
        await members.create_member(MemberCreate(name="Walk-in"))


def _sentences(html: str) -> list[str]:
    return [_text(m) for m in re.findall(r'class="log-sentence">(.*?)</p>', html, re.S)]


async def test_audit_reads_as_sentences_and_keeps_sign_ins_apart(tenant_a: World) -> None:
    await _log(tenant_a)
    async with open_client() as client:
        await client.get("/lang/zh-Hant")
        await login(client, tenant_a.owner.email)
        default = await client.get("/console/audit")
        signins = await client.get("/console/audit?kind=signin")
        rewards_only = await client.get("/console/audit?kind=rewards")
        await client.get("/lang/en")
        english = await client.get("/console/audit")
    assert default.status_code == signins.status_code == 200
    shown = _sentences(default.text)
    assert "Owner 建立了獎賞 免費咖啡" in shown
    assert any(s.startswith(f"{tenant_a.cashier.email} 新增了會員 ") for s in shown), shown
    assert not any("登入了" in s for s in shown)  # sign-ins have their own view
    assert _sentences(signins.text)[:2] == ["Owner 登入了", "Owner 登入了"]
    assert _sentences(rewards_only.text) == ["Owner 建立了獎賞 免費咖啡"]
    assert "Owner created the reward Free coffee" in _sentences(english.text)


async def test_audit_filters_by_person_and_ignores_bad_values(tenant_a: World) -> None:
    await _log(tenant_a)
    async with open_client() as client:
        await client.get("/lang/en")
        await login(client, tenant_a.owner.email)
        cashier = await client.get(f"/console/audit?person={tenant_a.cashier.id}")
        owner_rewards = await client.get(f"/console/audit?person={tenant_a.owner.id}&kind=rewards")
        odd = [
            await client.get(f"/console/audit?{query}")
            for query in (
                "kind=nonsense",
                "kind=" + "x" * 5000,
                "person=abc",
                "person=99999999999999999999999",
                "person=-1",
                "kind=&person=",
                "page=0",
            )
        ]
    assert [s.split(" added")[0] for s in _sentences(cashier.text)] == [tenant_a.cashier.email]
    assert _sentences(owner_rewards.text) == ["Owner created the reward Free coffee"]
    # An unknown kind or person shows the default view; a page out of bounds is a 400.
    assert [r.status_code for r in odd] == [200, 200, 200, 200, 200, 200, 400]
    assert "Owner created the reward Free coffee" in _sentences(odd[0].text)


async def test_audit_never_shows_another_tenants_entries(tenant_a: World, tenant_b: World) -> None:
    await _log(tenant_a)
    await _log(tenant_b)
    with tenant_context(tenant_b.id, Actor("staff", tenant_b.owner.id, tenant_b.owner.email)):
        await rewards.create_reward(
            {"name": {"en": "Bravo secret cake"}, "points_cost": 5, "type": "coupon",
             "options": {"benefit": "x"}}
        )  # fmt: skip
    async with open_client() as client:
        await client.get("/lang/en")
        await login(client, tenant_a.owner.email)
        pages = [
            await client.get(f"/console/audit?{query}")
            for query in (
                "",
                "kind=signin",
                "kind=rewards",
                f"person={tenant_b.owner.id}",
                f"person={tenant_b.cashier.id}&kind=members",
            )
        ]
    everything, signins, rewards_page, b_owner, b_cashier = (p.text for p in pages)
    for html in (everything, signins, rewards_page, b_owner, b_cashier):
        assert "Bravo secret cake" not in html and tenant_b.cashier.email not in html
    assert len(_sentences(signins)) == 2  # tenant A's two sign-ins, not B's
    # Tenant B's staff did nothing here: filtering by them shows nothing.
    assert _sentences(b_owner) == _sentences(b_cashier) == []
    assert f'<option value="{tenant_b.owner.id}"' not in everything
    with tenant_context(tenant_a.id, Actor("system")):
        assert await audit.entries(None, f"staff:{tenant_b.owner.id}") == []


@pytest.mark.sqlite
async def test_history_and_audit_filters_on_sqlite(sqlite_db: object) -> None:
    from tests.fixtures import make_world

    shop, other = await make_world("alpha-tea"), await make_world("bravo-bakery")
    member_id = await _story(shop)
    await _log(shop)
    await _log(other)
    with as_owner(shop):
        rows = (await history.points_history(member_id, "zh-Hans")).items
        rewards_log = await audit.entries("rewards")
        by_other_owner = await audit.entries(None, f"staff:{other.owner.id}")
        signins = await audit.entries("signin")
    assert [r.event for r in rows] == ["adjust", "redeem", "purchase"]
    assert rows[1].reward == "免费咖啡" and rows[2].amount == Decimal("88.50")
    assert {r["action"] for r in rewards_log} == {"reward.create"}
    assert all(r["tenant"] == shop.id for r in rewards_log + signins)
    assert by_other_owner == [] and len(signins) == 1


async def _queries_for_a_page(member_id: int, capsys: pytest.CaptureFixture[str]) -> int:
    """How many SQL statements one history page takes (Piccolo's own query log)."""
    from loyalchat import db

    engine = db.current_engine()
    capsys.readouterr()
    engine.log_queries = True
    try:
        await history.points_history(member_id, "zh-Hant")
    finally:
        engine.log_queries = False
    return len(re.findall(r"^Query \d+:", capsys.readouterr().out, re.M))


async def test_a_page_costs_the_same_queries_whatever_its_length(
    tenant_a: World, capsys: pytest.CaptureFixture[str]
) -> None:
    member_id = await _story(tenant_a)
    with as_owner(tenant_a):
        few = await _queries_for_a_page(member_id, capsys)
        reward = await rewards.create_reward(
            {"name": COFFEE, "points_cost": 1, "type": "coupon", "options": {"benefit": "x"}}
        )
        for n in range(8):
            await purchases.record_purchase(member_id, Decimal(10 + n), reference=f"R-{n}")
            await rewards.redeem(member_id, reward.id, key=f"more:{n}")
            await purchases.adjust_points(member_id, 1, key=f"adjust:{n}", reason=f"gift {n}")
        many = await _queries_for_a_page(member_id, capsys)
    assert 0 < few == many <= 6  # entries and count, names of actors, members, rewards


async def test_audit_names_a_rule_in_the_readers_language_even_once_deleted(
    tenant_a: World,
) -> None:
    with as_owner(tenant_a):
        kept = await rules.create_rule(
            RuleCreate(
                name={"zh-Hant": "雙倍積分", "en": "Double points"},
                kind=RuleKind.ratio,
                points_per_unit=Decimal(2),
            )
        )
        gone = await rules.create_rule(
            RuleCreate(name={"zh-Hant": "舊規則", "en": "Old rule"}, kind=RuleKind.ratio,
                       points_per_unit=Decimal(1))
        )  # fmt: skip
        await rules.delete_rule(gone.id)
    assert kept.id
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        await client.get("/lang/zh-Hant")
        chinese = _sentences((await client.get("/console/audit?kind=rules")).text)
        await client.get("/lang/en")
        english = _sentences((await client.get("/console/audit?kind=rules")).text)
    assert chinese == [
        "Owner 刪除了積分規則 舊規則",
        "Owner 建立了積分規則 舊規則",
        "Owner 建立了積分規則 雙倍積分",
    ]
    assert english[0] == "Owner deleted the points rule Old rule"

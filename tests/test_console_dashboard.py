"""The console dashboard through the real app: figures and SVG charts from the services."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.purchases import service as purchases
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from tests.console_helpers import as_owner, login, open_client
from tests.fixtures import World


async def _activity(world: World) -> None:
    """Two purchases (1,500 points), one redemption (400 points) and an unverified member."""
    with as_owner(world):
        await rules.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        amy = await members.create_member(MemberCreate(name="Amy", phone="+85291234567"))
        await members.create_member()
        await purchases.record_purchase(amy.id, Decimal("1000"), reference="R1")
        await purchases.record_purchase(amy.id, Decimal("500"), reference="R2")
        reward = await rewards.create_reward(
            RewardCreate(name="Cake", points_cost=400, type="coupon", options={"benefit": "cake"})
        )
        await rewards.redeem(amy.id, reward.id, key="redeem-dash")


async def test_dashboard_shows_figures_and_bars_for_today(tenant_a: World) -> None:
    await _activity(tenant_a)
    today = datetime.now(ZoneInfo(tenant_a.tenant.timezone)).date().isoformat()
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/console/dashboard")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'data-testid="stat-liability">\s*<span class="stat-value">1,100<', html)
    assert 'data-testid="stat-earned">1,500<' in html
    assert 'data-testid="stat-redeemed">400<' in html
    assert 'data-testid="stat-members">2<' in html and 'data-testid="stat-verified">1<' in html
    earned = re.findall(r'data-testid="bar-earned" data-day="([^"]+)" data-value="(\d+)"', html)
    redeemed = re.findall(r'data-testid="bar-redeemed" data-day="([^"]+)" data-value="(\d+)"', html)
    assert earned == [(today, "1500")]
    assert redeemed == [(today, "400")]
    joined = re.findall(r'data-testid="bar-joined" data-day="([^"]+)" data-value="(\d+)"', html)
    assert joined == [(today, "2")]
    assert re.findall(r'data-testid="bar-reward" data-value="(\d+)"', html) == ["1"]
    assert "Cake" in html.split('data-testid="chart-top"')[1]
    assert '<svg class="chart chart-fit"' in html and "<script" not in html.split("<main")[1]


async def test_empty_dashboard_and_tenant_isolation(tenant_a: World, tenant_b: World) -> None:
    await _activity(tenant_b)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/dashboard")
    assert page.status_code == 200
    assert 'data-testid="bar-earned"' not in page.text
    assert 'data-testid="bar-joined"' not in page.text and "Cake" not in page.text
    assert "No points moved in these days yet." in page.text
    assert 'data-testid="stat-members">0<' in page.text


async def test_dashboard_needs_staff(tenant_a: World) -> None:
    async with open_client() as client:
        page = await client.get("/console/dashboard", follow_redirects=False)
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]


async def test_dashboard_read_models_on_sqlite(sqlite_db: object) -> None:
    """members.stats and rewards.stats give the same figures on the embedded database."""
    from loyalchat.members import stats as member_stats
    from loyalchat.rewards import stats as reward_stats
    from tests.fixtures import make_world

    world = await make_world("sqlite-dash")
    await _activity(world)
    tz = ZoneInfo(world.tenant.timezone)
    today = datetime.now(tz).date()
    with as_owner(world):
        joined = await member_stats.joined_per_day(30, tz)
        top = await reward_stats.top_rewards(datetime(2000, 1, 1, tzinfo=tz))
        [reward] = (await rewards.list_rewards()).items
        grants = await reward_stats.reward_grants(reward.id)
    assert len(joined) == 30 and joined[-1].day == today and joined[-1].count == 2
    assert [(row.name["en"], row.grants) for row in top] == [("Cake", 1)]
    assert grants.total == 1 and grants.items[0].member_name == "Amy"


async def test_console_home_and_navigation_link_the_loyalty_pages(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        cashier_home = await client.get("/console")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        owner_home = await client.get("/console")
    for testid in ("nav-dashboard", "nav-members", "nav-coupons"):
        assert f'data-testid="{testid}"' in cashier_home.text
    assert 'data-testid="nav-rules"' not in cashier_home.text
    assert 'href="/console/rules"' not in cashier_home.text
    assert 'data-testid="nav-rewards"' in owner_home.text
    assert 'data-testid="nav-rules"' in owner_home.text
    assert (
        'data-testid="quick-links"' in owner_home.text
        and 'href="/console/rules"' in owner_home.text
    )

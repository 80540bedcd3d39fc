"""The console dashboard through the real app: figures and SVG charts from the services."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
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
        await rules.record_purchase(amy.id, Decimal("1000"), reference="R1")
        await rules.record_purchase(amy.id, Decimal("500"), reference="R2")
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
    assert '<svg class="chart"' in html and "<script" not in html.split("<main")[1]


async def test_empty_dashboard_and_tenant_isolation(tenant_a: World, tenant_b: World) -> None:
    await _activity(tenant_b)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/dashboard")
    assert page.status_code == 200
    assert 'data-testid="bar-earned"' not in page.text
    assert "No points moved in these days yet." in page.text
    assert 'data-testid="stat-members">0<' in page.text


async def test_dashboard_needs_staff(tenant_a: World) -> None:
    async with open_client() as client:
        page = await client.get("/console/dashboard", follow_redirects=False)
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]

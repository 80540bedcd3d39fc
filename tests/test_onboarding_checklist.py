"""The console home's checklist after approval: each step done or not from real data,
only for an open shop; "I printed it" for the QR kit, refused while suspended."""

from __future__ import annotations

from decimal import Decimal

from loyalchat.context import Actor, tenant_context
from loyalchat.onboarding import checklist
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World, make_world


def done_of(page: str, key: str) -> str:
    return page.split(f'data-testid="checklist-{key}" data-done="')[1].split('"')[0]


async def test_checklist_follows_the_shops_data(tenant_a: World, tenant_b: World, plugins) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        before = await client.get("/console")
    assert 'data-testid="checklist"' in before.text
    assert [done_of(before.text, k) for k in ("channel", "rules", "rewards", "qr_kit")] == [
        "no"
    ] * 4
    with tenant_context(tenant_a.id, Actor("staff", tenant_a.owner.id, tenant_a.owner.email)):
        await rules.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        await rewards.create_reward(
            RewardCreate(name="Tea", points_cost=10, type="coupon", options={"benefit": "tea"})
        )
        await ps.enable_plugin("webchat", plugins)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        middle = await client.get("/console")
        printed = await post_form(client, "/onboarding/checklist/qr-kit", {})
        after = await client.get("/console")
    assert [done_of(middle.text, k) for k in ("channel", "rules", "rewards", "qr_kit")] == [
        "yes",
        "yes",
        "yes",
        "no",
    ]
    assert printed.status_code == 303
    assert 'data-testid="checklist"' not in after.text  # all done: the card goes
    # Shop B's checklist saw none of A's work.
    with tenant_context(tenant_b.id):
        items = await checklist.checklist(plugins)
    assert [item.done for item in items] == [False] * 4


async def test_no_checklist_before_approval_and_no_marking_while_suspended(
    clean_db: None,
) -> None:
    applying = await make_world("alpha-tea", TenantStatus.applying)
    suspended = await make_world("bravo-bakery", TenantStatus.suspended)
    async with open_client() as client:
        await login(client, applying.owner.email)
        home = await client.get("/console")
        refused = await post_form(client, "/onboarding/checklist/qr-kit", {})
    assert 'data-testid="checklist"' not in home.text
    assert 'href="/onboarding"' in home.text
    assert refused.status_code == 403
    async with open_client() as client:
        await login(client, suspended.cashier.email)
        cashier_home = await client.get("/console")
    assert 'data-testid="checklist"' not in cashier_home.text  # setting up is a manager's
    async with open_client() as client:
        await login(client, suspended.owner.email)
        home = await client.get("/console")
        refused = await post_form(client, "/onboarding/checklist/qr-kit", {})
    assert 'data-testid="checklist"' in home.text
    assert 'data-testid="qr-kit-printed"' not in home.text
    assert refused.status_code == 403
    async with open_client() as client:
        anonymous = await post_form(client, "/onboarding/checklist/qr-kit", {})
    assert anonymous.status_code in (302, 303, 401)
    assert (await tenants.get_tenant(suspended.id)).status == "suspended"

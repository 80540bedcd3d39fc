"""The console's earning rules pages through the real app: list, create, edit, delete,
points policy, the calculator partials, roles and two tenants."""

from __future__ import annotations

import re
from decimal import Decimal

from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import ExpiryPolicy, RuleKind
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World


def _points(html: str) -> str:
    found = re.search(r'data-testid="calc-points">([^<]*)<', html)
    assert found, html[:500]
    return found.group(1)


async def _rule(world: World, **fields) -> rules.RuleOut:
    with as_owner(world):
        return await rules.create_rule(RuleCreate(**fields))


async def test_create_ratio_rule_then_the_calculator_shows_its_points(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        form = await client.get("/console/rules/new")
        created = await post_form(
            client,
            "/console/rules",
            {
                "name": "1 point per HK$10",
                "kind": "ratio",
                "points_per_unit": "0.1",
                "rounding": "down",
                "active": "1",
            },
        )
        listing = await client.get("/console/rules")
        partial = await client.get("/console/rules/calculator", params={"amount": "1,234.50"})
        bad = await client.get("/console/rules/calculator", params={"amount": "abc"})
    assert form.status_code == 200 and 'data-testid="rule-form"' in form.text
    assert created.status_code == 303
    assert "1 point per HK$10" in listing.text and 'data-testid="rule-row"' in listing.text
    assert _points(listing.text) == "10"  # the default HK$100
    assert partial.status_code == 200 and "<html" not in partial.text
    assert _points(partial.text) == "123"  # 1,234.50 * 0.1 rounded down
    assert "Enter an amount" in bad.text


async def test_threshold_and_campaign_rules_add_up(tenant_a: World) -> None:
    await _rule(
        tenant_a, name="Steps", kind=RuleKind.threshold, step_amount=Decimal(1000), step_points=100
    )
    await _rule(tenant_a, name="Double", kind=RuleKind.campaign, multiplier=Decimal(2))
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        below = await client.get("/console/rules/calculator", params={"amount": "999.99"})
        above = await client.get("/console/rules/calculator", params={"amount": "2500"})
    assert _points(below.text) == "0"
    assert _points(above.text) == "400"
    assert "Steps" in above.text and "Double" in above.text


async def test_draft_preview_counts_the_rule_being_typed(tenant_a: World) -> None:
    saved = await _rule(tenant_a, name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        # a new campaign, not saved yet: base 200 points, tripled
        new = await post_form(
            client,
            "/console/rules/preview",
            {
                "name": "Triple",
                "kind": "campaign",
                "multiplier": "3",
                "active": "1",
                "amount": "200",
            },
        )
        # editing the saved rule: the draft replaces it (2 points per unit)
        edited = await post_form(
            client,
            "/console/rules/preview",
            {
                "rule_id": str(saved.id),
                "name": "Base",
                "kind": "ratio",
                "points_per_unit": "2",
                "active": "1",
                "amount": "200",
            },
        )
        incomplete = await post_form(
            client, "/console/rules/preview", {"kind": "ratio", "amount": "200"}
        )
    assert _points(new.text) == "600"
    assert _points(edited.text) == "400"
    assert "Fill in the rule" in incomplete.text
    with as_owner(tenant_a):
        assert len(await rules.list_rules()) == 1  # a preview saves nothing


async def test_edit_and_delete_a_rule(tenant_a: World) -> None:
    rule = await _rule(
        tenant_a, name="Tuesday", kind=RuleKind.campaign, multiplier=Decimal(2), weekdays=[2]
    )
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/rules/{rule.id}")
        saved = await post_form(
            client,
            f"/console/rules/{rule.id}",
            {
                "name": "Weekend",
                "kind": "campaign",
                "multiplier": "1.5",
                "weekdays": ["6", "7"],
                "starts_on": "2025-01-01",
                "ends_on": "2025-12-31",
                "active": "1",
            },
        )
        wrong_dates = await post_form(
            client,
            f"/console/rules/{rule.id}",
            {
                "name": "Weekend",
                "kind": "campaign",
                "multiplier": "1.5",
                "starts_on": "2025-12-31",
                "ends_on": "2025-01-01",
                "active": "1",
            },
        )
        to_ratio = await post_form(
            client,
            f"/console/rules/{rule.id}",
            {"name": "Now a ratio", "kind": "ratio", "points_per_unit": "1", "active": ""},
        )
        with as_owner(tenant_a):
            after = await rules.get_rule(rule.id)
        deleted = await post_form(client, f"/console/rules/{rule.id}/delete")
    assert page.status_code == 200 and 'id="f-wd-2" name="weekdays" value="2" checked' in page.text
    assert saved.status_code == 303
    assert wrong_dates.status_code == 400
    assert "on or after the first day" in wrong_dates.text
    assert to_ratio.status_code == 303
    assert (after.name["en"], after.kind, after.weekdays, after.active) == (
        "Now a ratio",
        RuleKind.ratio,
        [],
        False,
    )
    assert deleted.status_code == 303
    with as_owner(tenant_a):
        assert await rules.list_rules() == []


async def test_invalid_rule_is_shown_next_to_the_field(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        zero = await post_form(
            client,
            "/console/rules",
            {"name": "Zero", "kind": "ratio", "points_per_unit": "0", "active": "1"},
        )
        typo = await post_form(
            client,
            "/console/rules",
            {"name": "Typo", "kind": "threshold", "step_amount": "lots", "step_points": "5"},
        )
    assert zero.status_code == 400 and "A number above 0" in zero.text
    assert 'value="Zero"' in zero.text  # the form keeps what was typed
    assert typo.status_code == 400 and 'id="f-step_amount-error"' in typo.text


async def test_points_policy(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        saved = await post_form(
            client,
            "/console/rules/policy",
            {
                "expiry": "rolling",
                "expiry_months": "18",
                "expiry_month": "12",
                "expiry_day": "31",
                "daily_cap": "500",
            },
        )
        bad = await post_form(
            client,
            "/console/rules/policy",
            {"expiry": "yearly", "expiry_months": "12", "expiry_month": "2", "expiry_day": "30"},
        )
        page = await client.get("/console/rules")
    assert saved.status_code == 303
    assert bad.status_code == 400 and "does not exist in that month" in bad.text
    assert 'id="f-expiry-rolling" name="expiry" value="rolling" checked' in page.text
    with as_owner(tenant_a):
        policy = await rules.get_policy()
    assert (policy.expiry, policy.expiry_months, policy.daily_cap) == (
        ExpiryPolicy.rolling,
        18,
        500,
    )


async def test_cashier_cannot_see_or_change_rules(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/console/rules")
        create = await post_form(
            client, "/console/rules", {"name": "x", "kind": "ratio", "points_per_unit": "1"}
        )
    assert page.status_code == 403 and create.status_code == 403


async def test_other_tenants_rules_are_not_found(tenant_a: World, tenant_b: World) -> None:
    theirs = await _rule(
        tenant_b, name="Bravo secret rule", kind=RuleKind.ratio, points_per_unit=Decimal(5)
    )
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        edit = await client.get(f"/console/rules/{theirs.id}")
        delete = await post_form(client, f"/console/rules/{theirs.id}/delete")
        listing = await client.get("/console/rules")
        partial = await client.get("/console/rules/calculator", params={"amount": "100"})
    assert edit.status_code == 404 and delete.status_code == 404
    assert "Bravo secret rule" not in listing.text
    assert _points(partial.text) == "0"
    with as_owner(tenant_b):
        assert len(await rules.list_rules()) == 1


async def test_the_rules_list_says_one_point_in_the_singular(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        for name, points in (("Everyday", "1"), ("Weekend", "2")):
            form = {"name": name, "kind": "ratio", "points_per_unit": points, "active": "1"}
            assert (await post_form(client, "/console/rules", form)).status_code == 303
        listing = (await client.get("/console/rules")).text
    assert "1 point per HK$1.00" in listing and "1 points per" not in listing
    assert "2 points per HK$1.00" in listing

"""The console's rewards catalogue and coupon verification pages through the real app."""

from __future__ import annotations

import re

from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World


async def _coupon(world: World, *, points: int = 100, benefit: str = "HK$20 off") -> tuple:
    """A member holding an issued coupon grant: (member, reward, grant)."""
    with as_owner(world):
        member = await members.create_member(MemberCreate(name="Amy Chan"))
        await ledger.adjust(member.id, 1000, key=f"adjust:seed-{member.id}", reason="seed")
        reward = await rewards.create_reward(
            RewardCreate(
                name={"en": "Tea voucher", "zh-Hant": "茶券"},
                points_cost=points,
                type="coupon",
                options={"benefit": benefit},
                validity_days=30,
            )
        )
        grant = await rewards.redeem(member.id, reward.id, key=f"redeem-test-{member.id}")
    return member, reward, grant


# -- coupon verification -----------------------------------------------------------------


async def test_coupon_page_has_scanner_and_code_form(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/console/coupons")
        script = await client.get("/static/js/scanner.js")
        ponyfill = await client.get("/static/vendor/barcode-detector/ponyfill.js")
        wasm = await client.get("/static/vendor/zxing-wasm/zxing_reader.wasm")
    assert page.status_code == 200
    for testid in ("scan-button", "coupon-code", "coupon-check", "scanner-status"):
        assert f'data-testid="{testid}"' in page.text
    assert '<script src="/static/js/scanner.js"' in page.text
    assert script.status_code == 200 and "LCG:" in script.text
    assert ponyfill.status_code == 200 and "BarcodeDetectionAPI" in ponyfill.text
    assert wasm.status_code == 200 and wasm.content[:4] == b"\0asm"


async def test_typed_code_shows_the_grant_and_marks_it_used_once(tenant_a: World) -> None:
    member, _, grant = await _coupon(tenant_a)
    typed = f"{grant.code[:4].lower()}-{grant.code[4:].lower()}"  # as a cashier types it
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        found = await client.get("/console/coupons", params={"code": typed})
        used = await post_form(client, "/console/coupons/use", {"code": grant.code})
        again = await post_form(client, "/console/coupons/use", {"code": grant.code})
        htmx_again = await client.post(
            "/console/coupons/use",
            data={"code": grant.code},
            headers={"x-csrftoken": client.cookies.get("lc_csrf", ""), "hx-request": "true"},
        )
    assert found.status_code == 200
    assert "Tea voucher" in found.text and member.member_no in found.text
    assert 'data-testid="mark-used"' in found.text
    assert 'data-status="issued"' in found.text
    assert used.status_code == 200
    assert 'data-result="used"' in used.text and "HK$20 off" in used.text
    assert 'data-status="used"' in used.text and 'data-testid="mark-used"' not in used.text
    assert again.status_code == 409
    assert 'data-result="already_used"' in again.text
    assert re.search(r"Already used on .+ by cashier@alpha-tea\.test", again.text)
    # htmx gets the panel alone, with a 200 so that it is swapped in
    assert htmx_again.status_code == 200 and "<html" not in htmx_again.text
    assert "Already used on" in htmx_again.text
    with as_owner(tenant_a):
        assert (await rewards.get_grant(grant.code)).status == "used"


async def test_scanned_payload_and_unknown_codes(tenant_a: World) -> None:
    _, _, grant = await _coupon(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        scanned = await client.get("/console/coupons", params={"code": f"LCG:{grant.code}"})
        unknown = await client.get("/console/coupons", params={"code": "ZZZZ-ZZZZ"})
        use_unknown = await post_form(client, "/console/coupons/use", {"code": "ZZZZZZZZ"})
    assert scanned.status_code == 200 and 'data-testid="mark-used"' in scanned.text
    assert unknown.status_code == 404 and "No coupon has the code ZZZZ-ZZZZ" in unknown.text
    assert use_unknown.status_code == 404


async def test_other_tenants_coupons_cannot_be_seen_or_used(
    tenant_a: World, tenant_b: World
) -> None:
    _, _, theirs = await _coupon(tenant_b)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        look = await client.get("/console/coupons", params={"code": theirs.code})
        use = await post_form(client, "/console/coupons/use", {"code": theirs.code})
    assert look.status_code == 404 and use.status_code == 404
    assert "Tea voucher" not in look.text
    with as_owner(tenant_b):
        assert (await rewards.get_grant(theirs.code)).status == "issued"


# -- catalogue -----------------------------------------------------------------------------

REWARD_FORM = {
    "name_zh_Hant": "免費咖啡",
    "name_zh_Hans": "",
    "name_en": "Free coffee",
    "description_en": "Any size",
    "points_cost": "200",
    "type": "coupon",
    "opt_coupon__benefit": "One free coffee",
    "opt_coupon__terms": "Not on Sundays",
    "opt_stored_value__amount": "",
    "stock": "10",
    "per_member_limit": "2",
    "validity_days": "30",
    "starts_at": "2025-01-01T09:00",
    "ends_at": "",
    "position": "0",
    "active": "1",
}


async def test_create_a_coupon_reward_in_three_languages(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        form = await client.get("/console/rewards/new")
        created = await post_form(client, "/console/rewards", REWARD_FORM)
        listing = await client.get("/console/rewards")
        listing_zh = await client.get("/console/rewards", headers={"accept-language": "zh-CN"})
    assert form.status_code == 200
    assert (
        'name="opt_coupon__benefit_zh_Hant"' in form.text
        and 'name="opt_stored_value__amount"' in form.text
    )
    assert created.status_code == 303, created.text
    assert "Free coffee" in listing.text and 'data-testid="reward-row"' in listing.text
    assert "免费咖啡" in listing_zh.text  # Simplified made from the Traditional name
    with as_owner(tenant_a):
        [reward] = (await rewards.list_rewards()).items
    assert reward.name["zh-Hant"] == "免費咖啡" and reward.points_cost == 200
    assert reward.options == {  # a plain field posted: the one language it is in
        "benefit": {"zh-Hant": "", "zh-Hans": "", "en": "One free coffee"},
        "terms": {"zh-Hant": "", "zh-Hans": "", "en": "Not on Sundays"},
    }
    assert (reward.stock, reward.per_member_limit, reward.validity_days) == (10, 2, 30)
    assert reward.starts_at is not None and reward.starts_at.utcoffset().total_seconds() == 0
    assert reward.starts_at.hour == 1  # 09:00 in Hong Kong


async def test_edit_a_reward_and_switch_it_to_stored_value(tenant_a: World) -> None:
    _, reward, _ = await _coupon(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/rewards/{reward.id}")
        missing_amount = await post_form(
            client,
            f"/console/rewards/{reward.id}",
            {**REWARD_FORM, "type": "stored_value", "opt_stored_value__amount": ""},
        )
        saved = await post_form(
            client,
            f"/console/rewards/{reward.id}",
            {**REWARD_FORM, "type": "stored_value", "opt_stored_value__amount": "50", "stock": ""},
        )
    assert page.status_code == 200 and 'value="Tea voucher"' in page.text
    assert missing_amount.status_code == 400
    assert 'id="f-opt_stored_value__amount-error"' in missing_amount.text
    assert saved.status_code == 303
    with as_owner(tenant_a):
        after = await rewards.get_reward(reward.id)
    assert (after.type, after.options, after.stock) == ("stored_value", {"amount": "50.00"}, None)


async def test_reward_form_errors_stay_next_to_their_fields(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        no_name = await post_form(
            client, "/console/rewards", {**REWARD_FORM, "name_zh_Hant": "", "name_en": ""}
        )
        bad_cost = await post_form(client, "/console/rewards", {**REWARD_FORM, "points_cost": "0"})
        bad_type = await post_form(client, "/console/rewards", {**REWARD_FORM, "type": "nope"})
    assert no_name.status_code == 400 and "at least one language" in no_name.text
    assert bad_cost.status_code == 400 and 'id="f-points_cost-error"' in bad_cost.text
    assert bad_type.status_code == 400 and "Choose a reward type" in bad_type.text
    with as_owner(tenant_a):
        assert (await rewards.list_rewards()).total == 0


async def test_cashier_cannot_manage_rewards(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/console/rewards")
        create = await post_form(client, "/console/rewards", REWARD_FORM)
    assert page.status_code == 403 and create.status_code == 403


async def test_other_tenants_rewards_are_not_found(tenant_a: World, tenant_b: World) -> None:
    _, theirs, _ = await _coupon(tenant_b)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        edit = await client.get(f"/console/rewards/{theirs.id}")
        update = await post_form(client, f"/console/rewards/{theirs.id}", REWARD_FORM)
        listing = await client.get("/console/rewards")
    assert edit.status_code == 404 and update.status_code == 404
    assert "Tea voucher" not in listing.text
    with as_owner(tenant_b):
        assert (await rewards.get_reward(theirs.id)).points_cost == 100


async def test_grants_of_a_reward_list_who_redeemed_it(tenant_a: World, tenant_b: World) -> None:
    member, reward, grant = await _coupon(tenant_a)
    with as_owner(tenant_a):
        await rewards.use_grant(grant.code)
        second = await rewards.redeem(member.id, reward.id, key="redeem-second")
    _, theirs, _ = await _coupon(tenant_b)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        everything = await client.get(f"/console/rewards/{reward.id}/grants")
        issued = await client.get(f"/console/rewards/{reward.id}/grants?status=issued")
        other = await client.get(f"/console/rewards/{theirs.id}/grants")
    assert everything.status_code == 200
    assert everything.text.count('data-testid="grant-row"') == 2
    assert member.member_no in everything.text and "Amy Chan" in everything.text
    assert "owner@alpha-tea.test" in everything.text  # who marked the first one used
    assert issued.text.count('data-testid="grant-row"') == 1 and second.code in issued.text
    assert other.status_code == 404

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

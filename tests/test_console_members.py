"""The console's member pages through the real app: list, search, detail, profile,
purchases, adjustments, stored value, merging, roles and two tenants."""

from __future__ import annotations

import re
from decimal import Decimal

from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from tests.console_helpers import as_owner, form_tokens, login, open_client, post_form
from tests.fixtures import World


async def _member(world: World, **profile) -> members.MemberOut:
    with as_owner(world):
        return await members.create_member(MemberCreate(**profile))


async def _ratio_rule(world: World, per_unit: str = "1") -> None:
    with as_owner(world):
        await rules.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(per_unit))
        )


async def _balance(world: World, member_id: int) -> int:
    with as_owner(world):
        return (await members.get_member_by_id(member_id)).points


def _rows(html: str) -> list[str]:
    return re.findall(r'data-testid="member-row" data-member-no="([^"]+)"', html)


# -- list and search ---------------------------------------------------------------------


async def test_list_shows_members_and_keeps_scan_only_joiners_apart(
    tenant_a: World, tenant_b: World
) -> None:
    amy = await _member(tenant_a, name="Amy Chan", phone="+85291234567")
    scanner = await _member(tenant_a)
    await _member(tenant_b, name="Bravo Person", phone="+85298765432")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        everyone = await client.get("/console/members")
        verified = await client.get("/console/members?show=verified")
        unverified = await client.get("/console/members?show=unverified")
    assert everyone.status_code == 200
    assert sorted(_rows(everyone.text)) == sorted([amy.member_no, scanner.member_no])
    assert "Amy Chan" in everyone.text and "Bravo Person" not in everyone.text
    assert _rows(verified.text) == [amy.member_no]
    assert _rows(unverified.text) == [scanner.member_no]
    assert "Joined by a scan only" in unverified.text
    assert 'data-testid="member-search"' in everyone.text


async def test_search_by_phone_number_and_member_number(tenant_a: World) -> None:
    amy = await _member(tenant_a, name="Amy Chan", phone="+85291234567")
    bob = await _member(tenant_a, name="Bob Lee", phone="+85261234500")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        by_phone = await client.get("/console/members", params={"q": "9123 4567"})
        by_number = await client.get("/console/members", params={"q": bob.member_no.lower()})
        by_name = await client.get("/console/members", params={"q": "amy"})
        nothing = await client.get("/console/members", params={"q": "zzzz"})
    assert _rows(by_phone.text) == [amy.member_no]
    assert _rows(by_number.text)[0] == bob.member_no
    assert _rows(by_name.text) == [amy.member_no]
    assert _rows(nothing.text) == [] and "No member matches" in nothing.text


async def test_list_paginates(tenant_a: World) -> None:
    with as_owner(tenant_a):
        for n in range(23):
            await members.create_member(MemberCreate(name=f"Person {n:02d}", phone=""))
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        first = await client.get("/console/members")
        second = await client.get("/console/members?page=2")
    assert len(_rows(first.text)) == 20
    assert len(_rows(second.text)) == 3
    assert not set(_rows(first.text)) & set(_rows(second.text))
    assert "page=2" in first.text


# -- detail, profile --------------------------------------------------------------------


async def test_detail_shows_card_and_history_with_who_when_why(tenant_a: World) -> None:
    amy = await _member(tenant_a, name="Amy Chan", phone="+85291234567")
    with as_owner(tenant_a):
        await ledger.adjust(amy.id, 120, key="adjust:seed-1", reason="Welcome gift")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/members/{amy.id}")
    assert page.status_code == 200
    assert amy.member_no in page.text
    assert re.search(r'data-testid="member-points">120<', page.text)
    assert "Adjusted by Owner: Welcome gift" in page.text  # the owner's name, not a key
    assert 'data-testid="history-row" data-kind="adjust"' in page.text
    # a cashier sees the purchase form but neither adjustments nor stored value forms
    assert 'data-testid="purchase-amount"' in page.text
    assert 'data-testid="adjust-form"' not in page.text
    assert 'data-testid="value-form"' not in page.text


async def test_profile_edit_saves_and_verifies_the_member(tenant_a: World) -> None:
    member = await _member(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        bad = await post_form(
            client, f"/console/members/{member.id}/profile", {"name": "Amy", "phone": "12"}
        )
        saved = await post_form(
            client,
            f"/console/members/{member.id}/profile",
            {
                "name": "Amy Chan",
                "phone": "9123 4567",
                "email": "",
                "birthday": "1990-05-31",
                "tags": "vip, 常客",
                "notes": "likes oolong",
                "marketing_opt_in": "1",
            },
        )
    assert bad.status_code == 400 and "Not a valid phone number" in bad.text
    assert saved.status_code == 303
    with as_owner(tenant_a):
        after = await members.get_member_by_id(member.id)
    assert (after.name, after.phone, after.verified) == ("Amy Chan", "+85291234567", True)
    assert after.tags == ("vip", "常客") and after.marketing_opt_in
    assert after.birthday.isoformat() == "1990-05-31"


async def test_cashier_adds_a_member_at_the_counter(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        response = await post_form(
            client, "/console/members", {"name": "Walk In", "phone": "+85291234000"}
        )
        assert response.status_code == 303, response.text
        page = await client.get(response.headers["location"])
    assert response.status_code == 303
    assert "Walk In" in page.text and "Member M000001 added." in page.text


# -- purchases ---------------------------------------------------------------------------


async def test_cashier_adds_a_purchase_and_sees_the_points(tenant_a: World) -> None:
    await _ratio_rule(tenant_a, "1")
    member = await _member(tenant_a, name="Amy", phone="+85291234567")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        token = form_tokens((await client.get(f"/console/members/{member.id}")).text)[0]
        form = {"token": token, "amount": "1,234.50", "reference": ""}
        first = await post_form(client, f"/console/members/{member.id}/purchases", form)
        page = await client.get(first.headers["location"])
        again = await post_form(client, f"/console/members/{member.id}/purchases", form)
        replay_page = await client.get(again.headers["location"])
        bad = await post_form(
            client, f"/console/members/{member.id}/purchases", {"token": token, "amount": "abc"}
        )
    assert first.status_code == 303
    result = page.text.split('data-testid="purchase-result"')[1].split("</div>")[0]
    assert "+1,234" in result and "HK$1,234.50" in result
    assert "already recorded" in replay_page.text
    assert await _balance(tenant_a, member.id) == 1234
    assert bad.status_code == 400 and "Enter an amount" in bad.text


async def test_purchase_reference_used_for_another_member_is_refused(tenant_a: World) -> None:
    await _ratio_rule(tenant_a)
    amy = await _member(tenant_a, name="Amy")
    bob = await _member(tenant_a, name="Bob")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        for member in (amy, bob):
            token = form_tokens((await client.get(f"/console/members/{member.id}")).text)[0]
            response = await post_form(
                client,
                f"/console/members/{member.id}/purchases",
                {"token": token, "amount": "50", "reference": "POS-1"},
            )
    assert response.status_code == 409
    assert "already used for another member" in response.text
    assert await _balance(tenant_a, amy.id) == 50 and await _balance(tenant_a, bob.id) == 0


# -- adjustments and stored value --------------------------------------------------------


async def test_cashier_cannot_adjust_points(tenant_a: World) -> None:
    member = await _member(tenant_a, name="Amy")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        response = await post_form(
            client,
            f"/console/members/{member.id}/adjustments",
            {"token": "x" * 24, "points": "500", "reason": "sneaky"},
        )
        topup = await post_form(
            client,
            f"/console/members/{member.id}/stored-value",
            {"token": "y" * 24, "value_amount": "50", "action": "topup"},
        )
    assert response.status_code == 403 and topup.status_code == 403
    assert await _balance(tenant_a, member.id) == 0


async def test_a_double_submitted_adjustment_credits_once(tenant_a: World) -> None:
    member = await _member(tenant_a, name="Amy")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/members/{member.id}")
        assert 'data-testid="adjust-form"' in page.text
        adjust_token = form_tokens(page.text)[1]
        form = {"token": adjust_token, "points": "300", "reason": "Birthday bonus"}
        first = await post_form(client, f"/console/members/{member.id}/adjustments", form)
        second = await post_form(client, f"/console/members/{member.id}/adjustments", form)
        after = await client.get(f"/console/members/{member.id}")
    assert first.status_code == second.status_code == 303
    assert await _balance(tenant_a, member.id) == 300
    assert after.text.count('data-kind="adjust"') == 1
    assert "Birthday bonus" in after.text


async def test_adjustment_needs_a_reason_and_cannot_overdraw(tenant_a: World) -> None:
    member = await _member(tenant_a, name="Amy")
    with as_owner(tenant_a):
        await ledger.adjust(member.id, 100, key="adjust:seed", reason="seed")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        no_reason = await post_form(
            client,
            f"/console/members/{member.id}/adjustments",
            {"token": "a" * 24, "points": "-20", "reason": " "},
        )
        too_much = await post_form(
            client,
            f"/console/members/{member.id}/adjustments",
            {"token": "b" * 24, "points": "-150", "reason": "correction"},
        )
        deduct = await post_form(
            client,
            f"/console/members/{member.id}/adjustments",
            {"token": "c" * 24, "points": "-30", "reason": "wrong receipt"},
        )
    assert no_reason.status_code == 400 and "Say why" in no_reason.text
    assert too_much.status_code == 409 and "Not enough points" in too_much.text
    assert deduct.status_code == 303
    assert await _balance(tenant_a, member.id) == 70


async def test_stored_value_top_up_and_spend(tenant_a: World) -> None:
    member = await _member(tenant_a, name="Amy")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        url = f"/console/members/{member.id}/stored-value"
        top = {"token": "t" * 24, "value_amount": "100.50", "action": "topup"}
        await post_form(client, url, top)
        await post_form(client, url, top)  # the same form twice: once
        spent = await post_form(
            client, url, {"token": "s" * 24, "value_amount": "20", "action": "spend"}
        )
        short = await post_form(
            client, url, {"token": "u" * 24, "value_amount": "500", "action": "spend"}
        )
        page = await client.get(f"/console/members/{member.id}")
    assert spent.status_code == 303
    assert short.status_code == 409 and "Not enough stored value" in short.text
    assert 'data-testid="member-stored-value">HK$80.50<' in page.text
    with as_owner(tenant_a):
        assert (await members.get_member_by_id(member.id)).stored_value == Decimal("80.50")


# -- merging -----------------------------------------------------------------------------


async def test_merge_needs_confirmation_then_moves_points(tenant_a: World) -> None:
    keep = await _member(tenant_a, name="Amy", phone="+85291234567")
    other = await _member(tenant_a)
    with as_owner(tenant_a):
        await ledger.adjust(other.id, 40, key="adjust:o", reason="seed")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        review = await client.get(f"/console/members/{keep.id}/merge?other={other.member_no}")
        unconfirmed = await post_form(
            client,
            f"/console/members/{keep.id}/merge",
            {"absorb_no": other.member_no, "reason": "same person"},
        )
        merged = await post_form(
            client,
            f"/console/members/{keep.id}/merge",
            {"absorb_no": other.member_no, "reason": "same person", "confirm": "1"},
        )
        missing = await client.get(f"/console/members/{keep.id}/merge?other=M999999")
    assert review.status_code == 200 and review.text.count('data-testid="merge-card"') == 2
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    assert merged.status_code == 303
    assert missing.status_code == 400 and "M999999" in missing.text
    assert await _balance(tenant_a, keep.id) == 40


async def test_cashier_cannot_merge(tenant_a: World) -> None:
    keep = await _member(tenant_a, name="Amy")
    other = await _member(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        review = await client.get(f"/console/members/{keep.id}/merge?other={other.member_no}")
        response = await post_form(
            client,
            f"/console/members/{keep.id}/merge",
            {"absorb_no": other.member_no, "reason": "x", "confirm": "1"},
        )
    assert review.status_code == 403 and response.status_code == 403


# -- two tenants -------------------------------------------------------------------------


async def test_other_tenants_members_are_not_found(tenant_a: World, tenant_b: World) -> None:
    theirs = await _member(tenant_b, name="Bravo Person", phone="+85298765432")
    mine = await _member(tenant_a, name="Alpha Person")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        detail = await client.get(f"/console/members/{theirs.id}")
        adjust = await post_form(
            client,
            f"/console/members/{theirs.id}/adjustments",
            {"token": "z" * 24, "points": "5", "reason": "x"},
        )
        merge = await post_form(
            client,
            f"/console/members/{mine.id}/merge",
            {"absorb_no": theirs.member_no, "reason": "x", "confirm": "1"},
        )
        search = await client.get("/console/members", params={"q": "Bravo"})
    assert detail.status_code == 404 and adjust.status_code == 404
    assert merge.status_code == 400
    assert "Bravo Person" not in search.text
    assert await _balance(tenant_b, theirs.id) == 0

"""Console forms show every problem at once: a summary at the top (role=alert, each item a
link to its field), each field marked, in the console's language."""

from __future__ import annotations

import re

from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rewards import service as rewards
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World

EMPTY_REWARD = {"type": "coupon", "token": "A" * 24}


def summary_links(html: str) -> list[str]:
    """The fields the error summary links to, in order."""
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found, "no error summary on the page"
    assert 'role="alert"' in found.group(0) and 'tabindex="-1"' in found.group(0)
    return re.findall(r'href="#([^"]+)"', found.group(0))


def summary_text(html: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0)))


async def test_empty_reward_form_lists_every_problem_at_the_top(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await post_form(client, "/console/rewards", EMPTY_REWARD)
    assert page.status_code == 400
    links = summary_links(page.text)
    assert links == ["f-name", "f-points_cost", "f-opt_coupon__benefit"]
    text = summary_text(page.text)
    assert "Please check the form" in text
    assert "Points it costs: Fill this in." in text
    assert "Benefit (e.g. HK$20 off, free coffee): Fill this in." in text
    assert "required" not in text  # no service wording
    # The summary is first in the form, the fields themselves are marked.
    assert page.text.index("error-summary") < page.text.index('id="f-points_cost"')
    assert re.search(r'id="f-points_cost"[^>]*aria-invalid="true"', page.text)
    assert re.search(
        r'id="f-opt_coupon__benefit"[^>]*aria-describedby="f-opt_coupon__benefit-error"',
        page.text,
    )
    assert 'id="f-opt_coupon__benefit-error"' in page.text
    with as_owner(tenant_a):
        assert (await rewards.list_rewards()).total == 0


async def test_empty_reward_form_in_traditional_chinese(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        await client.get("/lang/zh-Hant", params={"next": "/console/rewards/new"})
        page = await post_form(client, "/console/rewards", EMPTY_REWARD)
    assert page.status_code == 400
    assert summary_links(page.text) == ["f-name", "f-points_cost", "f-opt_coupon__benefit"]
    text = summary_text(page.text)
    assert "請檢查表格" in text
    assert "請填寫" in text or "填寫" in text
    assert not re.search(r"[A-Za-z]{4,}", text.replace("HK$", "")), text


async def test_typos_in_several_fields_are_shown_together(tenant_a: World) -> None:
    form = {
        **EMPTY_REWARD,
        "name_en": "Cake",
        "points_cost": "ten",
        "opt_coupon__benefit": "A cake",
        "stock": "-1",
        "validity_days": "1.5",
        "starts_at": "2025-02-01T09:00",
        "ends_at": "2025-01-01T09:00",
    }
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await post_form(client, "/console/rewards", form)
    assert page.status_code == 400
    assert summary_links(page.text) == ["f-points_cost", "f-stock", "f-validity_days", "f-ends_at"]


async def test_stored_value_amount_refused_at_its_field_in_plain_words(tenant_a: World) -> None:
    form = {**EMPTY_REWARD, "type": "stored_value", "name_en": "Top-up", "points_cost": "10"}
    form["opt_stored_value__amount"] = "lots"
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await post_form(client, "/console/rewards", form)
    assert page.status_code == 400
    assert summary_links(page.text) == ["f-opt_stored_value__amount"]
    assert "Enter an amount such as 50.00." in summary_text(page.text)


async def test_rule_form_lists_every_problem_at_once(tenant_a: World, tenant_b: World) -> None:
    form = {
        "name_en": "",
        "kind": "ratio",
        "points_per_unit": "",
        "per_receipt_cap": "many",
        "starts_on": "2025-13-01",
        "min_spend": "-5",
    }
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        await client.get("/lang/zh-Hant", params={"next": "/console/rules/new"})
        page = await post_form(client, "/console/rules", form)
    assert page.status_code == 400
    links = summary_links(page.text)
    for field in ("f-min_spend", "f-per_receipt_cap", "f-starts_on", "f-points_per_unit"):
        assert field in links
    text = summary_text(page.text)
    assert "請檢查表格" in text and "每張收據最多積分" in text
    # The other shop's console is not affected and has no rules.
    async with open_client() as client:
        await login(client, tenant_b.owner.email)
        theirs = await client.get("/console/rules")
    assert theirs.status_code == 200 and "error-summary" not in theirs.text


async def test_sign_in_and_api_key_forms_use_the_summary(tenant_a: World) -> None:
    async with open_client() as client:
        empty_login = await post_form(client, "/login", {"email": "", "password": ""})
        await login(client, tenant_a.owner.email)
        empty_key = await post_form(client, "/console/api-keys", {"name": "", "role": "nope"})
    assert empty_login.status_code == 400
    assert summary_links(empty_login.text) == ["f-email", "f-password"]
    assert empty_key.status_code == 400
    assert summary_links(empty_key.text) == ["f-name", "f-role"]
    assert "Name: Give the key a name." in summary_text(empty_key.text)


async def test_merge_form_links_its_problem_to_the_field(tenant_a: World, tenant_b: World) -> None:
    with as_owner(tenant_a):
        keep = await members.create_member(MemberCreate(name="Amy"))
        other = await members.create_member(MemberCreate(name="Ann"))
    with as_owner(tenant_b):
        theirs = await members.create_member(MemberCreate(name="Bob"))
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        unknown = await client.get(f"/console/members/{keep.id}/merge?other=M999999")
        # Another shop's member is not found here either.
        foreign = await client.get(f"/console/members/{keep.id}/merge?other={theirs.member_no}")
        unconfirmed = await post_form(
            client,
            f"/console/members/{keep.id}/merge",
            {"absorb_no": other.member_no, "reason": "same person"},
        )
    for page in (unknown, foreign):
        assert page.status_code == 400
        assert summary_links(page.text) == ["m-other"]
        assert re.search(r'id="m-other"[^>]*aria-invalid="true"', page.text)
    assert unconfirmed.status_code == 400
    assert summary_links(unconfirmed.text) == ["f-confirm"]
    assert "Tick the box to confirm the merge." in summary_text(unconfirmed.text)


async def test_coupon_check_marks_the_code_it_refused(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/console/coupons", params={"code": "ZZZZ-ZZZZ"})
        blank = await client.get("/console/coupons")
    assert re.search(
        r'id="coupon-code"[^>]*aria-invalid="true" aria-describedby="coupon-result"', page.text
    )
    assert 'id="coupon-result"' in page.text
    assert 'aria-invalid="true"' not in blank.text


async def test_admin_suspend_form_lists_its_problem(
    admin, tenant_a: World, tenant_b: World
) -> None:
    async with open_client() as client:
        await login(client, admin.email)
        page = await post_form(
            client, f"/admin/tenants/{tenant_a.id}/status", {"status": "suspended", "reason": " "}
        )
    assert page.status_code == 400
    assert summary_links(page.text) == [f"f-reason-{tenant_a.id}"]
    assert "Reason: Say why the shop is suspended" in summary_text(page.text)
    assert f"f-reason-{tenant_b.id}" not in page.text  # only the shop it is about


async def test_member_forms_list_every_bad_field_at_once(tenant_a: World, tenant_b: World) -> None:
    """The new-member and profile forms: a bad phone, e-mail and birthday are all listed
    (the members service alone would stop at the first); nothing is saved."""
    with as_owner(tenant_a):
        member = await members.create_member(MemberCreate(name="Chan Tai Man"))
    bad = {"name": "Wong", "phone": "12", "email": "not-an-address"}
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        new = await post_form(client, "/console/members", {"token": "B" * 24, **bad})
        profile = await post_form(
            client,
            f"/console/members/{member.id}/profile",
            {**bad, "birthday": "2999-01-01", "notes": "", "tags": "", "locale": ""},
        )
        await client.get("/lang/zh-Hant", params={"next": "/console"})
        zh = await post_form(client, "/console/members", {"token": "C" * 24, **bad})
    assert new.status_code == 400
    assert summary_links(new.text) == ["f-phone", "f-email"]
    assert profile.status_code == 400
    assert sorted(summary_links(profile.text)) == ["f-birthday", "f-email", "f-phone"]
    assert zh.status_code == 400 and "電話" in summary_text(zh.text)
    with as_owner(tenant_a):
        unchanged = await members.get_member(member.member_no)
        assert (unchanged.name, unchanged.phone) == ("Chan Tai Man", "")
        assert (await members.search_members("Wong")).total == 0

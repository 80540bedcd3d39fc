"""Managers set the member-number format in the console; new members get numbers in it."""

from __future__ import annotations

import re

from loyalchat.frontend.pages.console.member_settings import fields_format, format_fields
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World
from tests.test_form_errors import summary_links, summary_text


async def test_a_manager_sets_the_format_new_members_get(tenant_a: World, tenant_b: World) -> None:
    with as_owner(tenant_a):
        first = await members.create_member(MemberCreate(name="Before"))
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/members/numbers")
        assert page.status_code == 200 and "M000123" in page.text  # the example number
        assert _field(page.text, "prefix") == "M" and _field(page.text, "digits") == "6"
        saved = await post_form(
            client, "/console/members/numbers", {"prefix": "HK-", "digits": "5", "suffix": ""}
        )
        assert saved.status_code == 303
        shown = await client.get("/console/members/numbers")
        assert "HK-00123" in shown.text and "New members get numbers like HK-00123." in shown.text
        assert _field(shown.text, "prefix") == "HK-" and _field(shown.text, "digits") == "5"
        bad = await post_form(
            client, "/console/members/numbers", {"prefix": "M 1", "digits": "0", "suffix": "{x}"}
        )
        assert bad.status_code == 400
        assert summary_links(bad.text) == ["f-prefix", "f-digits", "f-suffix"]
        assert "Enter a number of digits from 1 to 12." in summary_text(bad.text)
        listed = await client.get("/console/members")
        assert 'data-testid="member-numbers"' in listed.text
    with as_owner(tenant_a):
        second = await members.create_member(MemberCreate(name="After"))
        assert (first.member_no, second.member_no) == ("M000001", "HK-00002")
        assert await members.number_format() == "HK-{seq:05d}"
    with as_owner(tenant_b):
        assert await members.number_format() == "M{seq:06d}"


async def test_the_page_speaks_merchant_words_not_patterns(tenant_a: World) -> None:
    """No braces anywhere on the page, in any language; what is saved numbers members as
    the page's example shows (a text after the number, one digit means no zeros)."""
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        for code in ("en", "zh-Hant", "zh-Hans"):
            await client.get(f"/lang/{code}", params={"next": "/console/members/numbers"})
            page = await client.get("/console/members/numbers")
            assert "{" not in _main(page.text) and "seq" not in _main(page.text), code
        saved = await post_form(
            client, "/console/members/numbers", {"prefix": "VIP", "digits": "1", "suffix": "-A"}
        )
        shown = await client.get("/console/members/numbers")
        preview = re.search(r'data-testid="number-preview">([^<]*)<', shown.text)
        too_long = await post_form(
            client, "/console/members/numbers", {"prefix": "A" * 20, "digits": "12", "suffix": "X"}
        )
    assert saved.status_code == 303
    assert preview and preview.group(1) == "VIP123-A"
    assert too_long.status_code == 400 and "会员编号最多 32 个字符" in too_long.text  # zh-Hans
    with as_owner(tenant_a):
        assert await members.number_format() == "VIP{seq}-A"
        made = await members.create_member(MemberCreate(name="New"))
    assert made.member_no == "VIP1-A"


def test_patterns_translate_to_fields_and_back() -> None:
    for fmt in ("M{seq:06d}", "HK-{seq:05d}", "{seq}", "VIP{seq}-A", "会员{seq:08d}"):
        assert fields_format(format_fields(fmt)) == fmt
    assert format_fields("M{seq:06d}") == {"prefix": "M", "digits": "6", "suffix": ""}


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="[a-z]+" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def _main(html: str) -> str:
    """The page's content, without the scripts and the top bar."""
    start = html.index("<main")
    return re.sub(r"<script.*?</script>", "", html[start:], flags=re.S)


async def test_cashiers_cannot_change_the_format(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        assert (await client.get("/console/members/numbers")).status_code == 403
        posted = await post_form(client, "/console/members/numbers", {"number_format": "X{seq}"})
        assert posted.status_code == 403
        listed = await client.get("/console/members")
        assert 'data-testid="member-numbers"' not in listed.text
    with as_owner(tenant_a):
        assert await members.number_format() == "M{seq:06d}"

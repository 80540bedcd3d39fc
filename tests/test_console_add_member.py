"""The console's "Add a member" form needs a name or a phone number: an empty form is
refused in the form's error summary and creates nothing (the API and the chat still
create blank members on purpose: a chat join knows nothing yet)."""

from __future__ import annotations

from html import unescape

from loyalchat.members import service as members
from loyalchat.members.tables import Member
from tests.api_support import bearer
from tests.console_helpers import as_owner, form_tokens, login, open_client, post_form
from tests.fixtures import World
from tests.test_form_errors import summary_links, summary_text


async def test_an_empty_form_is_refused_and_creates_nothing(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        token = form_tokens((await client.get("/console/members/new")).text)[0]
        empty = await post_form(client, "/console/members", {"token": token})
        blank = await post_form(
            client,
            "/console/members",
            {"token": token, "name": "   ", "phone": " ", "marketing_opt_in": "1"},
        )
    for page in (empty, blank):
        assert page.status_code == 400
        assert summary_links(page.text) == ["f-name"]
        assert "Name: Enter the member's name or phone number" in unescape(summary_text(page.text))
        assert 'id="f-name" name="name"' in page.text and 'aria-invalid="true"' in page.text
        assert form_tokens(page.text) == [token]  # the same form, sent again, creates once
    assert await Member.count() == 0


async def test_the_refusal_speaks_the_forms_language(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        await client.get("/lang/zh-Hant", params={"next": "/console/members/new"})
        page = await post_form(client, "/console/members", {"email": "amy@example.com"})
    assert page.status_code == 400
    text = summary_text(page.text)
    assert "請檢查表格" in text and "請輸入會員的姓名或電話號碼" in text, text
    assert "Enter" not in text
    assert await Member.count() == 0


async def test_a_name_alone_or_a_phone_alone_is_enough(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        by_name = await post_form(client, "/console/members", {"name": "Walk In"})
        by_phone = await post_form(client, "/console/members", {"phone": "9123 4000"})
    assert (by_name.status_code, by_phone.status_code) == (303, 303)
    with as_owner(tenant_a):
        found = (await members.search_members("", limit=10)).items
    assert sorted((m.name, m.phone) for m in found) == [("", "+85291234000"), ("Walk In", "")]


async def test_the_api_still_creates_a_blank_member(tenant_a: World, tenant_b: World) -> None:
    """POST /api/v1/members documents every field as optional (chat joins): unchanged."""
    async with open_client() as client:
        made = await client.post("/api/v1/members", json={}, headers=bearer(tenant_a.api_key))
        # The console form of another shop's staff adds to their own shop only.
        await login(client, tenant_b.cashier.email)
        other = await post_form(client, "/console/members", {"name": "B's walk-in"})
    assert made.status_code == 201, made.text
    assert other.status_code == 303
    with as_owner(tenant_a):
        assert [m.name for m in (await members.search_members("", limit=10)).items] == [""]

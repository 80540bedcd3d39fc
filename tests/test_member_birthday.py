"""A birthday before 1900 is refused as too early (not "in the future"), in the API and the
console, in the three languages; the code stays ``invalid_birthday`` for clients."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.domain import DomainError
from loyalchat.members import profile
from loyalchat.members import service as members
from tests.api_support import SYSTEM, add_member, app, client  # noqa: F401 - fixtures
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World

TOO_EARLY = {
    "en": "A birthday cannot be before 1900.",
    "zh-HK": "生日不可早於 1900 年。",
    "zh-CN": "生日不能早于 1900 年。",
}
FUTURE = {
    "en": "A birthday cannot be in the future.",
    "zh-HK": "生日不可以是將來的日期。",
    "zh-CN": "生日不能是将来的日期。",
}


def test_the_rule_that_failed_is_named() -> None:
    today = date(2026, 12, 3)
    for value, problem in (("1899-12-31", "too_early"), ("2026-12-04", "future")):
        with pytest.raises(DomainError) as refused:
            profile.clean_birthday(value, today)
        assert refused.value.code == "invalid_birthday"
        assert refused.value.extra == {"field": "birthday", "problem": problem}
    with pytest.raises(DomainError) as too_early:
        profile.clean_birthday(date(1899, 1, 1), today)
    assert "before 1900" in str(too_early.value)
    assert profile.clean_birthday("1900-01-01", today) == date(1900, 1, 1)


@pytest.mark.parametrize("accept", ["en", "zh-HK", "zh-CN"])
async def test_api_says_too_early_in_the_callers_language(
    client: AsyncTestClient,  # noqa: F811
    tenant_a: World,
    accept: str,
) -> None:
    member_no = await add_member(tenant_a, name="Amy")
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    headers = {"accept-language": accept}
    early = await client.patch(
        f"/api/v1/members/{member_no}", json={"birthday": "1899-12-31"}, headers=headers
    )
    future = await client.patch(
        f"/api/v1/members/{member_no}", json={"birthday": tomorrow}, headers=headers
    )
    created = await client.post(
        "/api/v1/members", json={"name": "Old", "birthday": "1850-01-01"}, headers=headers
    )
    for response, expected, problem in (
        (early, TOO_EARLY, "too_early"),
        (future, FUTURE, "future"),
        (created, TOO_EARLY, "too_early"),
    ):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_birthday"
        assert error["message"] == expected[accept]
        assert error["extra"]["problem"] == problem
    with tenant_context(tenant_a.id, SYSTEM):
        assert (await members.get_member(member_no)).birthday is None
        assert (await members.search_members("Old")).total == 0


@pytest.mark.parametrize("lang", ["en", "zh-Hant", "zh-Hans"])
async def test_console_says_too_early(tenant_a: World, lang: str) -> None:
    member_no = await add_member(tenant_a, name="Amy", phone="91234567")
    with tenant_context(tenant_a.id, SYSTEM):
        member = await members.get_member(member_no)
    accept = {"en": "en", "zh-Hant": "zh-HK", "zh-Hans": "zh-CN"}[lang]
    async with open_client() as console:
        await login(console, tenant_a.owner.email)
        console.cookies.set("lc_lang", lang)
        response = await post_form(
            console,
            f"/console/members/{member.id}/profile",
            {"name": "Amy", "phone": "91234567", "birthday": "1899-12-31"},
        )
    assert response.status_code == 400
    assert TOO_EARLY[accept] in response.text
    assert "1990-05-31" not in response.text  # not the "a date in the past" wording
    with tenant_context(tenant_a.id, SYSTEM):
        assert (await members.get_member(member_no)).birthday is None

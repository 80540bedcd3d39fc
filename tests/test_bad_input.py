"""Bad input gets a clear 4xx with a stable code, never a 500, and leaves nothing behind.

On PostgreSQL (the test database), through the app: a NUL in a path, query or body, JSON
nested too deep, ids and offsets past a column's range. The services' own checks are in
test_bad_input_services.py.
"""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.rewards.tables import Reward
from loyalchat.tenants.tables import Role
from tests.api_support import (
    SYSTEM,
    add_member,
    add_reward,
    bearer,
    key_with_role,
    points_of,
)
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World
from tests.media_helpers import clear_media, png
from tests.reward_helpers import REWARD_FORM

JSON_HEADERS = {"content-type": "application/json"}


async def count(table) -> int:
    return await table.count()


def code_of(response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]["code"]


# -- NUL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/members?q=ab%00c",
        "/api/v1/members/M%00001",
        "/api/v1/members/M000001%00/ledger",
        "/api/v1/grants/AB%00CD",
        "/api/v1/rewards?active_only=true&x=%00",
    ],
)
async def test_nul_in_an_api_path_or_query_is_400(
    client: AsyncTestClient, tenant_a: World, url: str
) -> None:
    await add_member(tenant_a)
    response = await client.get(url)
    assert response.status_code == 400
    assert code_of(response) == "invalid_character"


async def test_nul_in_a_json_body_is_400_and_stores_nothing(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=10)
    entries, members = await count(LedgerEntry), await count(Member)
    sent = [
        (f"/api/v1/members/{member_no}/purchases", {"amount": "10.00", "reference": "\u0000"}),
        (f"/api/v1/members/{member_no}/adjustments", {"points": 5, "reason": "a\u0000b"}),
        ("/api/v1/members", {"name": "Chan", "phone": "91234567", "notes": "x\u0000"}),
        ("/api/v1/members", {"name": "Chan", "tags": ["vip"], "\u0000": 1}),
    ]
    for path, body in sent:
        response = await client.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert code_of(response) == "invalid_character"
    # With an Idempotency-Key the guard still answers first, and the key stays unused.
    keyed = await client.post(
        f"/api/v1/members/{member_no}/purchases",
        json={"amount": "10.00", "reference": "R\u0000"},
        headers={"Idempotency-Key": "nul-1"},
    )
    assert code_of(keyed) == "invalid_character"
    retry = await client.post(
        f"/api/v1/members/{member_no}/purchases",
        json={"amount": "10.00", "reference": "R-1"},
        headers={"Idempotency-Key": "nul-1"},
    )
    assert retry.status_code == 201, retry.text
    assert (await count(LedgerEntry), await count(Member)) == (entries, members)


async def test_an_escaped_backslash_before_u0000_is_plain_text(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    body = b'{"amount": "10.00", "reference": "C:\\\\u0000"}'
    response = await client.post(
        f"/api/v1/members/{member_no}/purchases", content=body, headers=JSON_HEADERS
    )
    assert response.status_code == 201, response.text
    assert response.json()["reference"] == "C:\\u0000"


async def test_nul_in_the_login_form_shows_an_error_page_not_a_500(tenant_a: World) -> None:
    async with open_client() as web:
        response = await post_form(web, "/login", {"email": "a\x00@b.test", "password": "x"})
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert "<html" in response.text.lower()
        await login(web, tenant_a.owner.email)  # and the next sign-in works


async def test_nul_in_console_pages_is_400(tenant_a: World) -> None:
    async with open_client() as web:
        await login(web, tenant_a.owner.email)
        for url in ("/console/coupons?code=AB%00", "/console/members?q=a%00"):
            response = await web.get(url)
            assert response.status_code == 400, url
            assert response.headers["content-type"].startswith("text/html")
        typed = await post_form(web, "/console/coupons/use", {"code": "AB\x00CD"})
        assert typed.status_code == 400


async def test_multipart_files_may_hold_nul_bytes_but_text_fields_may_not(
    tenant_a: World,
) -> None:
    clear_media()
    picture = png()
    assert b"\x00" in picture
    async with open_client() as web:
        await login(web, tenant_a.owner.email)
        upload = {"image": ("coffee.png", picture, "image/png")}
        created = await post_form(web, "/console/rewards", REWARD_FORM, files=upload)
        assert created.status_code == 303, created.text
        refused = await post_form(
            web, "/console/rewards", {**REWARD_FORM, "name_en": "Tea\x00"}, files=upload
        )
        assert refused.status_code == 400
    with tenant_context(tenant_a.id, SYSTEM):
        names = [str(row["name"]) for row in await Reward.select(Reward.name)]
    assert len(names) == 1 and "Free coffee" in names[0]


# -- JSON nested too deeply ----------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 1_000, 40])
async def test_json_nested_too_deep_is_400_invalid_json(
    client: AsyncTestClient, tenant_a: World, depth: int
) -> None:
    member_no = await add_member(tenant_a)
    nested = b"[" * depth + b"]" * depth
    options = b'{"a": ' * depth + b"1" + b"}" * depth
    reward = b'{"name": "x", "points_cost": 1, "type": "coupon", "options": ' + options + b"}"
    bodies = [
        ("/api/v1/members", nested),
        ("/api/v1/rewards", reward),
        (f"/api/v1/members/{member_no}/purchases", b'{"amount": ' + nested + b"}"),
    ]
    for path, body in bodies:
        response = await client.post(path, content=body, headers=JSON_HEADERS)
        assert response.status_code == 400, (path, response.text[:200])
        assert code_of(response) == "invalid_json"
    assert await count(Reward) == 0


async def test_ordinary_nesting_is_fine(client: AsyncTestClient, tenant_a: World) -> None:
    reward = await add_reward(tenant_a, options={"benefit": "Free coffee"})
    assert (await client.get(f"/api/v1/rewards/{reward}")).status_code == 200
    assert await points_of(tenant_a, await add_member(tenant_a, points=3)) == 3


# -- integers past a column's range in URLs ------------------------------------------------

HUGE = "99999999999"  # past int32: PostgreSQL says "integer out of range"
PAST_INT64 = "9" * 20


async def test_api_ids_past_int32_are_refused_not_500(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    for method, url in [
        ("get", f"/api/v1/rewards/{HUGE}"),
        ("get", f"/api/v1/rewards/{HUGE}/image"),
        ("patch", f"/api/v1/rewards/{HUGE}"),
        ("get", f"/api/v1/api-keys/{HUGE}"),
        ("get", f"/api/v1/rewards/{PAST_INT64}"),
    ]:
        kwargs = {"json": {"stock": 1}} if method == "patch" else {}
        response = await client.request(method.upper(), url, **kwargs)
        assert response.status_code in (400, 404), (url, response.text)
    owner = bearer(await key_with_role(tenant_a, Role.owner))
    revoked = await client.delete(f"/api/v1/api-keys/{HUGE}", headers=owner)
    assert revoked.status_code in (400, 404)
    for url in [
        f"/api/v1/rewards?offset={PAST_INT64}",
        "/api/v1/rewards?offset=1e19",
        f"/api/v1/members?offset={PAST_INT64}",
        f"/api/v1/members/{member_no}/ledger?offset={PAST_INT64}",
        f"/api/v1/members/{member_no}/stored-value?offset={PAST_INT64}",
        f"/api/v1/audit-log?offset={PAST_INT64}",
        "/api/v1/rewards?offset=-1",
    ]:
        response = await client.get(url)
        assert response.status_code == 400, (url, response.text)
        assert code_of(response) == "invalid"
    assert (await client.get("/api/v1/rewards?offset=1000000000")).status_code == 200


async def test_the_openapi_document_states_the_ranges(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    reward = schema["paths"]["/api/v1/rewards/{reward_id}"]["get"]["parameters"]
    (path_id,) = [p for p in reward if p["name"] == "reward_id"]
    assert (path_id["schema"]["minimum"], path_id["schema"]["maximum"]) == (1, 2**31 - 1)
    listing = schema["paths"]["/api/v1/rewards"]["get"]["parameters"]
    (offset,) = [p for p in listing if p["name"] == "offset"]
    assert offset["schema"]["maximum"] == 1_000_000_000


async def test_console_and_wallet_ids_and_pages_past_range_are_refused(
    tenant_a: World,
) -> None:
    from tests.wallet_helpers import make_member, path_of

    member = await make_member(tenant_a)
    wallet = path_of(tenant_a, member)
    async with open_client() as web:
        await login(web, tenant_a.owner.email)
        for url in [
            f"/console/rewards/{HUGE}",
            f"/console/rewards/{HUGE}/grants",
            f"/console/members/{HUGE}",
            f"/console/members/{HUGE}/merge",
            f"/console/rules/{HUGE}",
            f"/console/members?page={PAST_INT64}",
            f"/console/rewards?page={PAST_INT64}",
            f"/console/members/{member.id}?hpage={PAST_INT64}",
            f"{wallet}/rewards/{HUGE}",
            f"{wallet}/history?page={PAST_INT64}",
        ]:
            response = await web.get(url)
            assert response.status_code in (400, 404), (url, response.status_code)
            assert response.headers["content-type"].startswith("text/html")
        posted = await post_form(web, f"/console/api-keys/{HUGE}/revoke")
        assert posted.status_code in (400, 404)


async def test_the_openapi_document_lists_the_input_guard_codes(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    bad = schema["paths"]["/api/v1/members"]["post"]["responses"]["400"]
    examples = bad["content"]["application/json"]["examples"].values()
    codes = {example["value"]["error"]["code"] for example in examples}
    assert {"invalid", "invalid_character", "invalid_json"} <= codes


async def test_ids_in_full_width_digits_are_refused(
    client: AsyncTestClient, tenant_a: World
) -> None:
    reward = await add_reward(tenant_a)
    assert reward == 1
    response = await client.get("/api/v1/rewards/\uff11")  # "１"
    assert response.status_code == 400 and code_of(response) == "invalid"
    assert (await client.get("/api/v1/rewards/1")).status_code == 200
    async with open_client() as web:
        await login(web, tenant_a.owner.email)
        assert (await web.get("/console/rewards/\uff11")).status_code == 400
        # A code is text, not an id: typed in full width it is looked up (and not found).
        assert (await web.get("/console/coupons?code=\uff21\uff22\uff11")).status_code == 404

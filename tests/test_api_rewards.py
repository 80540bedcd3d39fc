"""The rewards API: catalogue, redemptions, grants checked and used at the till."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.api_errors import MESSAGES
from loyalchat.i18n import translations
from loyalchat.rewards.tables import Grant, Reward
from loyalchat.tenants.tables import Role
from tests.api_support import add_member, add_reward, bearer, key_with_role, points_of
from tests.fixtures import World

ZH = {"Accept-Language": "zh-HK"}
COFFEE = {
    "name": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"},
    "points_cost": 100,
    "type": "coupon",
    "options": {"benefit": "Free coffee"},
    "stock": 2,
    "validity_days": 30,
}


async def test_catalogue_create_list_get_patch(client: AsyncTestClient, tenant_a: World) -> None:
    created = await client.post("/api/v1/rewards", json=COFFEE)
    assert created.status_code == 201, created.text
    reward = created.json()
    assert (reward["type"], reward["points_cost"], reward["stock"]) == ("coupon", 100, 2)
    assert reward["name"]["en"] == "Free coffee"

    unlimited = await client.post(
        "/api/v1/rewards", json={**COFFEE, "name": "Tea", "stock": None, "position": 1}
    )
    assert unlimited.json()["stock"] is None

    page = (await client.get("/api/v1/rewards", params={"limit": 1})).json()
    assert (page["total"], page["limit"], len(page["items"])) == (2, 1, 1)
    assert page["items"][0]["id"] == reward["id"]
    rest = (await client.get("/api/v1/rewards", params={"limit": 1, "offset": 1})).json()
    assert rest["items"][0]["name"]["en"] == "Tea"

    assert (await client.get(f"/api/v1/rewards/{reward['id']}")).json() == reward
    patched = await client.patch(f"/api/v1/rewards/{reward['id']}", json={"stock": 50})
    assert patched.status_code == 200
    assert patched.json()["stock"] == 50 and patched.json()["points_cost"] == 100

    bad = await client.post("/api/v1/rewards", json={**COFFEE, "type": "voucher"})
    assert bad.json()["error"]["code"] == "unknown_reward_type"
    assert (await client.get("/api/v1/rewards/999999")).json()["error"]["code"] == "not_found"


async def test_cashier_key_reads_but_does_not_edit_the_catalogue(
    client: AsyncTestClient, tenant_a: World
) -> None:
    reward_id = await add_reward(tenant_a)
    cashier = bearer(await key_with_role(tenant_a, Role.cashier))
    assert (await client.get("/api/v1/rewards", headers=cashier)).status_code == 200
    denied = await client.post("/api/v1/rewards", json=COFFEE, headers=cashier)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "forbidden")
    patched = await client.patch(f"/api/v1/rewards/{reward_id}", json={"stock": 0}, headers=cashier)
    assert patched.status_code == 403
    assert await Reward.count() == 1


async def test_redeem_then_use_at_the_till(client: AsyncTestClient, tenant_a: World) -> None:
    member_no = await add_member(tenant_a, points=250)
    reward_id = await add_reward(tenant_a, validity_days=30)

    redeemed = await client.post(
        f"/api/v1/members/{member_no}/redemptions", json={"reward_id": reward_id}
    )
    assert redeemed.status_code == 201, redeemed.text
    grant = redeemed.json()
    assert (grant["status"], grant["member_no"], grant["points_cost"]) == (
        "issued",
        member_no,
        100,
    )
    assert grant["code"] and grant["expires_at"] and grant["qr_payload"].endswith(grant["code"])
    assert await points_of(tenant_a, member_no) == 150

    shown = await client.get(f"/api/v1/grants/{grant['code'].lower()}")
    assert shown.json()["code"] == grant["code"]

    used = await client.post(f"/api/v1/grants/{grant['code']}/use")
    assert used.status_code == 200
    assert (used.json()["status"], used.json()["used_by_label"]) == ("used", "alpha-tea key")

    again = await client.post(f"/api/v1/grants/{grant['code']}/use", headers=ZH)
    error = again.json()["error"]
    assert (again.status_code, error["code"]) == (409, "already_used")
    assert error["title"] == "資料衝突"
    assert error["extra"]["used_by_label"] == "alpha-tea key"
    assert error["extra"]["used_at"] == used.json()["used_at"].replace("Z", "+00:00")
    template = translations("zh-Hant").gettext(MESSAGES["already_used"])
    assert error["message"].startswith(template.split("%(")[0])
    assert "alpha-tea key" in error["message"]


async def test_refusals_have_stable_codes_in_the_callers_language(
    client: AsyncTestClient, tenant_a: World
) -> None:
    poor = await add_member(tenant_a, points=50)
    rich = await add_member(tenant_a, points=1000)
    reward_id = await add_reward(tenant_a, stock=1)

    short = await client.post(
        f"/api/v1/members/{poor}/redemptions", json={"reward_id": reward_id}, headers=ZH
    )
    error = short.json()["error"]
    assert (short.status_code, error["code"]) == (409, "insufficient_points")
    assert short.headers["content-language"] == "zh-Hant"
    assert error["message"] == translations("zh-Hant").gettext(MESSAGES["insufficient_points"]) % {
        "balance": "50",
        "needed": "100",
    }

    first = await client.post(f"/api/v1/members/{rich}/redemptions", json={"reward_id": reward_id})
    assert first.status_code == 201
    sold_out = await client.post(
        f"/api/v1/members/{rich}/redemptions", json={"reward_id": reward_id}, headers=ZH
    )
    error = sold_out.json()["error"]
    assert (sold_out.status_code, error["code"]) == (409, "out_of_stock")
    assert error["message"] == translations("zh-Hant").gettext(MESSAGES["out_of_stock"])
    assert await points_of(tenant_a, rich) == 900  # the refusal took nothing

    unknown = await client.get("/api/v1/grants/NOSUCHCODE", headers=ZH)
    error = unknown.json()["error"]
    assert (unknown.status_code, error["code"], error["title"]) == (404, "not_found", "找不到頁面")
    missing_reward = await client.post(
        f"/api/v1/members/{rich}/redemptions", json={"reward_id": 999999}
    )
    assert missing_reward.json()["error"]["code"] == "not_found"


async def test_redemption_replay_with_idempotency_key_issues_one_grant(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=500)
    reward_id = await add_reward(tenant_a)
    path = f"/api/v1/members/{member_no}/redemptions"
    key = {"Idempotency-Key": "till-2-redeem-0001"}

    first = await client.post(path, json={"reward_id": reward_id}, headers=key)
    replay = await client.post(path, json={"reward_id": reward_id}, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert await Grant.count() == 1
    assert await points_of(tenant_a, member_no) == 400


async def test_other_tenants_rewards_and_grants_are_not_found(
    app: Litestar, tenant_a: World, tenant_b: World
) -> None:
    b_member = await add_member(tenant_b, points=500)
    b_reward = await add_reward(tenant_b)
    async with AsyncTestClient(app=app) as b_client:
        b_client.headers.update(bearer(tenant_b.api_key))
        b_grant = (
            await b_client.post(
                f"/api/v1/members/{b_member}/redemptions", json={"reward_id": b_reward}
            )
        ).json()["code"]
    a_member = await add_member(tenant_a, points=500)
    async with AsyncTestClient(app=app) as client:
        client.headers.update(bearer(tenant_a.api_key))
        assert (await client.get(f"/api/v1/rewards/{b_reward}")).status_code == 404
        assert (
            await client.patch(f"/api/v1/rewards/{b_reward}", json={"stock": 0})
        ).status_code == 404
        assert (await client.get(f"/api/v1/grants/{b_grant}")).status_code == 404
        assert (await client.post(f"/api/v1/grants/{b_grant}/use")).status_code == 404
        # A's member cannot redeem B's reward either.
        taken = await client.post(
            f"/api/v1/members/{a_member}/redemptions", json={"reward_id": b_reward}
        )
        assert taken.status_code == 404
        assert (await client.get("/api/v1/rewards")).json()["total"] == 0
    assert await points_of(tenant_a, a_member) == 500
    grant = await Grant.select(Grant.status).where(Grant.code == b_grant).first()
    assert grant["status"] == "issued"
    assert (await Reward.select(Reward.stock).where(Reward.id == b_reward).first())["stock"] is None


async def test_openapi_documents_the_reward_routes_with_examples(client: AsyncTestClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, method in [
        ("/api/v1/rewards", "get"),
        ("/api/v1/rewards", "post"),
        ("/api/v1/rewards/{reward_id}", "get"),
        ("/api/v1/rewards/{reward_id}", "patch"),
        ("/api/v1/members/{member_no}/redemptions", "post"),
        ("/api/v1/grants/{code}", "get"),
        ("/api/v1/grants/{code}/use", "post"),
    ]:
        assert method in paths[path], (method, path)
    redeem = paths["/api/v1/members/{member_no}/redemptions"]["post"]
    assert redeem["requestBody"]["content"]["application/json"]["schema"]["examples"]
    conflicts = redeem["responses"]["409"]["content"]["application/json"]["examples"]
    assert {e["summary"] for e in conflicts.values()} >= {"insufficient_points", "out_of_stock"}
    use = paths["/api/v1/grants/{code}/use"]["post"]["responses"]["409"]["content"]
    assert "already_used" in {e["summary"] for e in use["application/json"]["examples"].values()}

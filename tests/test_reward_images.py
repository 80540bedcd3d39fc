"""Reward pictures: uploaded in the console form, served to staff, members and API keys,
never across shops."""

from __future__ import annotations

import html
import io
import re

import pytest
from PIL import Image

from loyalchat.context import tenant_context
from loyalchat.media import images, store
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Reward
from tests.api_support import SYSTEM, add_reward, bearer
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World, make_world
from tests.media_helpers import (
    clear_media,
    phone_photo,
    png,
    png_bomb,
    tenant_files,
    too_large,
)
from tests.reward_helpers import REWARD_FORM, refused
from tests.wallet_helpers import make_member, path_of

COUPON = {"points_cost": 5, "type": "coupon", "options": {"benefit": "A free coffee"}}
NOT_KEYS = ["..%2F..%2Fsecret", "%2e%2e", "A" * 64, "a" * 63, "0" * 64 + "%2F..", "x"]


@pytest.fixture(autouse=True)
def empty_media() -> None:
    clear_media()


def jpeg_upload(data: bytes, name: str = "photo.jpg", kind: str = "image/jpeg") -> dict:
    return {"image": (name, data, kind)}


async def picture_of(world: World, data: bytes | None = None) -> str:
    """A picture stored in ``world``'s media, as the console stores uploads."""
    with tenant_context(world.id, SYSTEM):
        return await images.save_web_image(data or png(), kind="reward_image")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return html.unescape(found.group(1))


# -- console -----------------------------------------------------------------------------


async def test_upload_in_the_console_form_stores_a_normalised_picture(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        blank = await client.get("/console/rewards/new")
        created = await post_form(
            client, "/console/rewards", REWARD_FORM, files=jpeg_upload(phone_photo())
        )
        with_image = await client.get("/console/rewards")
    assert 'enctype="multipart/form-data"' in blank.text
    assert 'type="file"' in blank.text and 'name="image"' in blank.text
    assert created.status_code == 303, created.text
    with as_owner(tenant_a):
        [reward] = (await rewards.list_rewards()).items
        stored = await store.read(reward.image)
    assert store.is_key(reward.image) and tenant_files(tenant_a.id) == [reward.image]
    picture = Image.open(io.BytesIO(stored))
    assert picture.format == "JPEG"
    assert picture.size == (800, 1200)  # upright (EXIF orientation 6) and web-sized
    assert not picture.getexif() and "exif" not in picture.info
    assert f'src="/console/media/{reward.image}" alt="Free coffee"' in with_image.text

    async with open_client() as client:
        await login(client, tenant_a.cashier.email)  # cashiers see the pictures too
        served = await client.get(f"/console/media/{reward.image}")
        again = await client.get(
            f"/console/media/{reward.image}", headers={"if-none-match": f'"{reward.image}"'}
        )
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"].startswith("private, max-age=")
    assert served.headers["etag"] == f'"{reward.image}"'
    assert served.content == stored
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (jpeg_upload(b"just some text", "notes.txt", "text/plain"), "This file is not a picture"),
        (jpeg_upload(png_bomb(), "bomb.png", "image/png"), "The picture has too many pixels"),
        (jpeg_upload(too_large(9), "huge.jpg"), "The picture is too large: at most 8 MB."),
    ],
    ids=["not-an-image", "decompression-bomb", "oversized"],
)
async def test_refused_uploads_show_why_and_store_nothing(
    tenant_a: World, upload: dict, message: str
) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        refused = await post_form(client, "/console/rewards", REWARD_FORM, files=upload)
    assert refused.status_code == 400
    assert 'data-testid="image-error"' in refused.text and message in refused.text
    assert hidden(refused.text, "image_key") == ""
    assert await Reward.count() == 0
    assert tenant_files(tenant_a.id) == []


async def test_refusal_is_in_the_staff_members_language(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        refused = await post_form(
            client,
            "/console/rewards",
            REWARD_FORM,
            files=jpeg_upload(b"text", "a.txt", "text/plain"),
            headers={"accept-language": "zh-HK"},
        )
    assert refused.status_code == 400
    assert "這個檔案不是圖片" in refused.text


async def test_an_upload_is_kept_when_another_field_is_wrong(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        wrong = await post_form(
            client,
            "/console/rewards",
            {**REWARD_FORM, "points_cost": "0"},
            files=jpeg_upload(png((300, 200)), "logo.png", "image/png"),
        )
        key = hidden(wrong.text, "image_key")
        fixed = await post_form(client, "/console/rewards", {**REWARD_FORM, "image_key": key})
    assert wrong.status_code == 400 and 'id="f-points_cost-error"' in wrong.text
    assert store.is_key(key)
    assert f'src="/console/media/{key}"' in wrong.text  # the preview of the kept upload
    assert fixed.status_code == 303
    with as_owner(tenant_a):
        [reward] = (await rewards.list_rewards()).items
    assert reward.image == key


async def test_replace_and_remove_the_picture(tenant_a: World) -> None:
    first = await picture_of(tenant_a, png(colour="red"))
    reward_id = await add_reward(tenant_a, image=first)
    path = f"/console/rewards/{reward_id}"
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(path)
        replaced = await post_form(
            client,
            path,
            {**REWARD_FORM, "image_key": first},
            files=jpeg_upload(png(colour="green"), "new.png", "image/png"),
        )
        after_replace = await client.get(path)
        second = hidden(after_replace.text, "image_key")
        removed = await post_form(
            client, path, {**REWARD_FORM, "image_key": second, "remove_image": "1"}
        )
        after_remove = await client.get(path)
    assert f'src="/console/media/{first}" alt="Free coffee"' in page.text
    assert 'name="remove_image"' in page.text
    assert replaced.status_code == 303 and removed.status_code == 303
    assert second not in ("", first)
    assert hidden(after_remove.text, "image_key") == ""
    assert "/console/media/" not in after_remove.text
    with as_owner(tenant_a):
        assert (await rewards.get_reward(reward_id)).image == ""
    # A file unchanged is left alone: saving the form without a new upload keeps it.
    reward_id = await add_reward(tenant_a, image=first)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        kept = await post_form(
            client, f"/console/rewards/{reward_id}", {**REWARD_FORM, "image_key": first}
        )
    assert kept.status_code == 303
    with as_owner(tenant_a):
        assert (await rewards.get_reward(reward_id)).image == first


async def test_another_shops_picture_cannot_be_put_on_a_reward(
    tenant_a: World, tenant_b: World
) -> None:
    theirs = await picture_of(tenant_b)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        forged = await post_form(client, "/console/rewards", {**REWARD_FORM, "image_key": theirs})
        junk = await post_form(client, "/console/rewards", {**REWARD_FORM, "image_key": "../../x"})
    assert forged.status_code == 400 and "This picture is no longer available" in forged.text
    assert junk.status_code == 400
    assert await Reward.count() == 0


async def test_console_serves_only_the_own_shops_files(tenant_a: World, tenant_b: World) -> None:
    ours = await picture_of(tenant_a, png(colour="red"))
    theirs = await picture_of(tenant_b, png(colour="blue"))
    async with open_client() as client:
        anonymous = await client.get(f"/console/media/{ours}", follow_redirects=False)
        await login(client, tenant_a.owner.email)
        own = await client.get(f"/console/media/{ours}")
        other = await client.get(f"/console/media/{theirs}")
        odd = [await client.get(f"/console/media/{key}") for key in NOT_KEYS]
    assert anonymous.status_code in (302, 303) and not anonymous.content.startswith(b"\x89PNG")
    assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg"
    assert other.status_code == 404 and other.headers["content-type"].startswith("text/html")
    assert [response.status_code for response in odd] == [404] * len(NOT_KEYS)


# -- wallet ------------------------------------------------------------------------------


async def test_wallet_shows_the_catalogue_pictures_of_its_own_shop_only(
    tenant_a: World, tenant_b: World
) -> None:
    key = await picture_of(tenant_a, phone_photo((900, 600), orientation=1))
    await add_reward(tenant_a, image=key, name={"en": "Free coffee"})
    unlisted = await picture_of(tenant_a, png(colour="purple"))  # e.g. a receipt photo
    theirs = await picture_of(tenant_b, png(colour="blue"))
    await add_reward(tenant_b, image=theirs)
    member = await make_member(tenant_a, 500, locale="en")
    base = path_of(tenant_a, member)
    their_member = await make_member(tenant_b, 500, locale="en")
    async with open_client() as client:
        catalogue = await client.get(f"{base}/rewards")
        served = await client.get(f"{base}/media/{key}")
        not_catalogue = await client.get(f"{base}/media/{unlisted}")
        other_shop = await client.get(f"{base}/media/{theirs}")
        odd = [await client.get(f"{base}/media/{k}") for k in NOT_KEYS]
        forged_token = await client.get(f"/w/not-a-token/media/{key}")
        theirs_own = await client.get(f"{path_of(tenant_b, their_member)}/media/{theirs}")
    assert catalogue.status_code == 200
    assert f'src="{base}/media/{key}" alt="Free coffee"' in catalogue.text
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"].startswith("private, max-age=")
    assert served.headers["etag"] == f'"{key}"'
    assert served.headers["referrer-policy"] == "no-referrer"
    assert Image.open(io.BytesIO(served.content)).size == (900, 600)
    assert not_catalogue.status_code == 404
    assert other_shop.status_code == 404
    assert [response.status_code for response in odd] == [404] * len(NOT_KEYS)
    assert forged_token.status_code in (403, 404)  # the link page, no picture
    assert theirs_own.status_code == 200  # B's own member sees B's picture


# -- API ---------------------------------------------------------------------------------


async def test_api_gives_the_image_url_and_serves_the_picture(
    tenant_a: World, tenant_b: World
) -> None:
    key = await picture_of(tenant_a)
    with_image = await add_reward(tenant_a, image=key)
    without = await add_reward(tenant_a, name="Tea")
    theirs = await add_reward(tenant_b, image=await picture_of(tenant_b, png(colour="blue")))
    unused_of_theirs = await picture_of(tenant_b, png(colour="teal"))
    async with open_client() as client:
        client.headers.update(bearer(tenant_a.api_key))
        listed = (await client.get("/api/v1/rewards")).json()["items"]
        image = await client.get(f"/api/v1/rewards/{with_image}/image")
        cached = await client.get(
            f"/api/v1/rewards/{with_image}/image", headers={"if-none-match": f'"{key}"'}
        )
        none = await client.get(f"/api/v1/rewards/{without}/image")
        other = await client.get(f"/api/v1/rewards/{theirs}/image")
        anonymous = await client.get(
            f"/api/v1/rewards/{with_image}/image", headers={"authorization": ""}
        )
        foreign_key = await client.post(
            "/api/v1/rewards", json={**COUPON, "name": "X", "image": unused_of_theirs}
        )
        own_key = await client.post("/api/v1/rewards", json={**COUPON, "name": "Y", "image": key})
    by_id = {item["id"]: item for item in listed}
    assert by_id[with_image]["image_url"] == f"/api/v1/rewards/{with_image}/image"
    assert by_id[with_image]["image"] == key
    assert by_id[without]["image_url"] is None
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.headers["etag"] == f'"{key}"'
    assert image.headers["cache-control"].startswith("private")
    assert cached.status_code == 304
    assert (none.status_code, none.json()["error"]["code"]) == (404, "not_found")
    assert (other.status_code, other.json()["error"]["code"]) == (404, "not_found")
    assert anonymous.status_code == 401
    assert foreign_key.status_code == 422
    assert foreign_key.json()["error"]["code"] == "invalid_reward"
    assert "image" in foreign_key.json()["error"]["extra"]["errors"]
    assert own_key.status_code == 201 and own_key.json()["image_url"].endswith("/image")


async def test_image_route_is_in_the_openapi_schema(tenant_a: World) -> None:
    async with open_client() as client:
        schema = (await client.get("/schema/openapi.json")).json()
    route = schema["paths"]["/api/v1/rewards/{reward_id}/image"]["get"]
    assert "200" in route["responses"] and "404" in route["responses"]
    reward = schema["components"]["schemas"]["Reward"]["properties"]
    assert "image_url" in reward


# -- the same on SQLite (the embedded default) -------------------------------------------


@pytest.mark.sqlite
async def test_pictures_on_sqlite_belong_to_their_shop(sqlite_db: object) -> None:
    ours, theirs = await make_world("alpha-tea"), await make_world("bravo-bakery")
    key = await picture_of(ours)
    await add_reward(ours, image=key)
    with tenant_context(ours.id, SYSTEM):
        assert await rewards.image_in_catalogue(key)
        assert not await rewards.image_in_catalogue("../" + key)
    with tenant_context(theirs.id, SYSTEM):
        assert not await rewards.image_in_catalogue(key)
        problem = await refused(rewards.create_reward({**COUPON, "name": "X", "image": key}))
    assert problem.code == "invalid_reward" and "image" in problem.extra["errors"]

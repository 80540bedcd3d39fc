"""The demo's rewards have pictures, drawn with Pillow when the demo is made: stored like
an upload (re-encoded as JPEG, as every reward picture), served in the member wallet and the console, kept across demo runs.
"""

from __future__ import annotations

import io

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image, ImageStat

from loyalchat.commands.demo import DEMO_SLUG, ensure_demo
from loyalchat.commands.demo_pictures import DRAWINGS, SIZE, draw_picture
from loyalchat.context import Actor, tenant_context
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.rewards import service as rewards
from loyalchat.tenants import service as tenants
from tests.wallet_helpers import (
    anonymous_client,  # noqa: F401 (the `client` fixture)
    by_testid,
)


@pytest.mark.parametrize("kind", sorted(DRAWINGS))
def test_each_drawing_is_a_square_png_with_something_on_it(kind: str) -> None:
    data = draw_picture(kind)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (SIZE, SIZE)
    # Not a blank square: the picture has several colours and some contrast.
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20
    assert max(ImageStat.Stat(image.convert("L")).stddev) > 20
    assert draw_picture(kind) == data, "the same picture on every run"


async def test_demo_rewards_have_pictures_in_the_wallet_and_the_console(
    clean_db: None, client: AsyncTestClient
) -> None:
    credentials = await ensure_demo()
    tenant = await tenants.get_tenant_by_slug(DEMO_SLUG)
    assert tenant is not None
    with tenant_context(tenant.id, Actor("system", label="test")):
        catalogue = (await rewards.list_rewards(limit=50)).items
        member = await members.get_member("M000001")
    assert catalogue and all(reward.image for reward in catalogue)
    assert len({reward.image for reward in catalogue}) == len(catalogue), "one picture each"

    base = links.PATH_PREFIX + links.make_token(tenant.id, member.id)
    page = (await client.get(f"{base}/rewards")).text
    assert len(by_testid(page, "reward-image")) == len(catalogue)
    for reward in catalogue:
        assert f'src="{base}/media/{reward.image}"' in page
        response = await client.get(f"{base}/media/{reward.image}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(response.content)).size == (SIZE, SIZE)

    # The API's image route serves them to the shop's own software.
    api = await client.get(
        f"/api/v1/rewards/{catalogue[0].id}/image",
        headers={"authorization": f"Bearer {credentials['api_key']}"},
    )
    assert api.status_code == 200 and api.headers["content-type"] == "image/jpeg"
    assert api.content.startswith(b"\xff\xd8\xff")  # as the API document says

    # The console shows the same files to the shop's staff.
    await client.get("/login")
    signed_in = await client.post(
        "/login",
        data={
            "email": credentials["owner_email"],
            "password": credentials["owner_password"],
            "_csrf_token": client.cookies.get("lc_csrf", ""),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    rewards_page = (await client.get("/console/rewards")).text
    assert catalogue[0].image in rewards_page
    picture = await client.get(f"/console/media/{catalogue[0].image}")
    assert picture.status_code == 200 and picture.content.startswith(b"\xff\xd8\xff")

    # Running the demo again keeps the pictures as they are.
    await ensure_demo()
    with tenant_context(tenant.id, Actor("system", label="test")):
        again = (await rewards.list_rewards(limit=50)).items
    assert [reward.image for reward in again] == [reward.image for reward in catalogue]

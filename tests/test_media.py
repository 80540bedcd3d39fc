"""The media store (content-addressed, one folder per tenant) and web-sized pictures."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from loyalchat.context import Actor, NoTenantContext, tenant_context
from loyalchat.media import images, store
from loyalchat.settings import get_settings
from tests.fixtures import World
from tests.media_helpers import (
    GPS_IFD,
    clear_media,
    phone_photo,
    png,
    png_bomb,
    tenant_files,
    too_large,
)

SYSTEM = Actor("system", label="test")
TRAVERSALS = [
    "../secret",
    "../../secret",
    "..",
    "",
    "/etc/passwd",
    "A" * 64,  # upper case: not a key
    "a" * 63,
    "a" * 65,
    "g" * 64,
    "a" * 64 + "/../secret",
    "%2e%2e%2fsecret",
]


@pytest.fixture(autouse=True)
def empty_media() -> None:
    clear_media()


async def test_save_is_content_addressed_idempotent_and_per_tenant(
    tenant_a: World, tenant_b: World
) -> None:
    data = png()
    with tenant_context(tenant_a.id, SYSTEM):
        key = await store.save(data, kind="reward_image")
        again = await store.save(data, kind="reward_image")
        assert key == again == store.key_of(data)
        assert store.is_key(key)
        assert await store.read(key) == data
        assert await store.exists(key)
    path = get_settings().media_dir / str(tenant_a.id) / key
    assert path.read_bytes() == data
    assert tenant_files(tenant_a.id) == [key]  # one file, no temporary left behind
    with tenant_context(tenant_b.id, SYSTEM):
        assert not await store.exists(key)
        with pytest.raises(store.MediaNotFound):
            await store.read(key)
    assert tenant_files(tenant_b.id) == []


async def test_concurrent_saves_of_the_same_bytes_store_one_whole_file(tenant_a: World) -> None:
    data = phone_photo((600, 400), orientation=1)
    with tenant_context(tenant_a.id, SYSTEM):
        keys = await asyncio.gather(*(store.save(data, kind="receipt") for _ in range(16)))
        assert set(keys) == {store.key_of(data)}
        assert await store.read(keys[0]) == data
    assert tenant_files(tenant_a.id) == [keys[0]]


async def test_no_tenant_fails_closed(tenant_a: World) -> None:
    with pytest.raises(NoTenantContext):
        await store.save(png(), kind="reward_image")
    with pytest.raises(NoTenantContext):
        await store.read("a" * 64)
    with pytest.raises(NoTenantContext):
        await store.exists("a" * 64)
    assert not get_settings().media_dir.exists() or not any(get_settings().media_dir.iterdir())


async def test_keys_that_are_not_keys_never_reach_the_file_system(tenant_a: World) -> None:
    root = get_settings().media_dir
    root.mkdir(parents=True, exist_ok=True)
    (root / "secret").write_bytes(b"not yours")
    (root.parent / "secret").write_bytes(b"not yours either")
    with tenant_context(tenant_a.id, SYSTEM):
        await store.save(png(), kind="reward_image")  # the tenant's folder exists
        for key in TRAVERSALS:
            assert not await store.exists(key), key
            with pytest.raises(store.MediaNotFound):
                await store.read(key)
    with tenant_context(tenant_a.id, SYSTEM), pytest.raises(ValueError):
        await store.save(png(), kind="../x")


def test_media_types_come_from_the_bytes() -> None:
    assert store.media_type_of(phone_photo((20, 10))) == "image/jpeg"
    assert store.media_type_of(png()) == "image/png"
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, format="WEBP")
    assert store.media_type_of(webp.getvalue()) == "image/webp"
    assert store.media_type_of(b"%PDF-1.7 ...") == "application/pdf"
    assert store.media_type_of(b"<svg onload=alert(1)>") == "application/octet-stream"


def test_web_image_is_upright_small_and_without_metadata() -> None:
    original = phone_photo((3000, 2000), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif()  # the upload carries EXIF and GPS
    picture = Image.open(io.BytesIO(images.web_image(original)))
    assert picture.format == "JPEG"
    # EXIF orientation 6 means "turn 90 degrees clockwise": the 3000 x 2000 sensor image
    # is a portrait photo, and it is scaled to 1,200 pixels on the long side.
    assert picture.size == (800, 1200)
    assert max(picture.size) <= images.MAX_SIDE
    assert not picture.getexif() and "exif" not in picture.info
    assert not picture.getexif().get_ifd(GPS_IFD)
    red, blue = picture.getpixel((400, 100)), picture.getpixel((400, 1100))
    assert red[0] > 180 and red[2] < 80  # the left half (red) is now on top
    assert blue[2] > 180 and blue[0] < 80


def test_small_pictures_keep_their_size_and_transparency_becomes_white() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 20), (0, 0, 0, 0)).save(out, format="PNG")
    picture = Image.open(io.BytesIO(images.web_image(out.getvalue())))
    assert picture.size == (50, 20)
    assert all(channel > 245 for channel in picture.getpixel((25, 10)))


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        (b"hello, I am a text file", "not_an_image", "not a picture"),
        (b"", "not_an_image", "not a picture"),
        (b"GIF89a\x01\x00\x01\x00", "unsupported_format", "JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "unsupported_format", "JPEG, PNG or WebP"),
        (png_bomb(), "too_many_pixels", "too many pixels"),
        (too_large(9), "too_large", "at most 8 MB"),
        (phone_photo((400, 300))[:600], "truncated", "damaged"),
    ],
)
async def test_refused_uploads_store_nothing(
    tenant_a: World, data: bytes, reason: str, words: str
) -> None:
    with tenant_context(tenant_a.id, SYSTEM), pytest.raises(images.InvalidImage) as refused:
        await images.save_web_image(data, kind="reward_image")
    assert refused.value.code == "invalid_image"
    assert refused.value.extra["reason"] == reason
    assert words in refused.value.message
    assert tenant_files(tenant_a.id) == []


def test_a_real_decompression_bomb_is_refused_before_decoding() -> None:
    """A 9,000 x 9,000 PNG is 10 KB on disk: its header alone is enough to refuse it."""
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")
    assert len(out.getvalue()) < 64 * 1024
    with pytest.raises(images.InvalidImage) as refused:
        images.web_image(out.getvalue())
    assert refused.value.extra["reason"] == "too_many_pixels"


async def test_saved_picture_is_the_normalised_one(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        key = await images.save_web_image(phone_photo(), kind="reward_image")
        stored = await store.read(key)
    assert store.key_of(stored) == key
    picture = Image.open(io.BytesIO(stored))
    assert picture.format == "JPEG" and max(picture.size) <= images.MAX_SIDE
    assert not picture.getexif()

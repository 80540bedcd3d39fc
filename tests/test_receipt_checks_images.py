"""The screenshot / edited check on real receipt photos and on images made to look forged.

The real photos are ``<repo>/../shared/receipts/images`` (not in the repository): none
may be flagged. Screenshots and edited files are built here with Pillow.
"""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, PngImagePlugin

from loyalchat.extensions.receipts import Outcome, ReceiptFacts, ReceiptFields, ShopProfile
from loyalchat.receipts.checks.screenshot import ScreenshotCheck, image_facts
from loyalchat.receipts.checks.texts import reason_text
from tests.drawn_receipts import SHARED_RECEIPTS

SHOP = ShopProfile(tenant_id=1)
IMAGES = SHARED_RECEIPTS / "images"
_SOFTWARE, _MAKE, _MODEL = 0x0131, 0x010F, 0x0110


def encode(size: tuple[int, int], fmt: str, **exif_tags: object) -> bytes:
    image = Image.new("RGB", size, "white")
    exif = Image.Exif()
    for tag, value in exif_tags.items():
        exif[{"software": _SOFTWARE, "make": _MAKE, "model": _MODEL}[tag]] = value
    buffer = io.BytesIO()
    params = {"exif": exif.tobytes()} if exif_tags else {}
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


async def judge(data: bytes):
    facts = ReceiptFacts(ReceiptFields(), image=image_facts(data))
    return await ScreenshotCheck().check(facts, SHOP)


@pytest.mark.skipif(not IMAGES.is_dir(), reason=f"no shared receipt photos at {IMAGES}")
async def test_real_receipt_photos_are_not_flagged() -> None:
    paths = sorted(IMAGES.glob("*.jpg"))
    assert paths, f"no photos in {IMAGES}"
    sample = random.Random(11).sample(paths, min(60, len(paths)))
    flagged = []
    for path in sample:
        result = await judge(path.read_bytes())
        if result.outcome is not Outcome.passed:
            flagged.append((path.name, result.reason, result.detail))
    assert flagged == []


@pytest.mark.parametrize(
    "size, fmt",
    [((1170, 2532), "PNG"), ((2532, 1170), "PNG"), ((1080, 2400), "PNG"), ((1080, 1920), "JPEG")],
)
async def test_a_screen_sized_image_without_a_camera_is_a_screenshot(
    size: tuple[int, int], fmt: str
) -> None:
    result = await judge(encode(size, fmt))
    assert (result.outcome, result.reason) == (Outcome.warn, "screenshot")
    assert reason_text(result, "en").startswith("This looks like a screenshot.")


async def test_a_camera_photo_at_a_screen_size_is_not_a_screenshot() -> None:
    data = encode((1080, 1920), "JPEG", make="Apple", model="iPhone 15", software="17.1")
    assert (await judge(data)).outcome is Outcome.passed


@pytest.mark.parametrize(
    "software", ["Adobe Photoshop 25.0 (Macintosh)", "Snapseed 2.0", "GIMP 2.10.34", "PicsArt"]
)
async def test_an_image_written_by_a_photo_editor_is_edited(software: str) -> None:
    data = encode((1200, 1600), "JPEG", make="Apple", model="iPhone 15", software=software)
    result = await judge(data)
    assert (result.outcome, result.reason) == (Outcome.warn, "edited")
    assert reason_text(result, "zh-Hant") == "這張相片似乎經過修改，請傳送原本的相片。"


async def test_a_png_marked_as_a_screenshot_is_one_at_any_size() -> None:
    image = Image.new("RGB", (900, 1400), "white")
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Screenshot")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    result = await judge(buffer.getvalue())
    assert (result.outcome, result.reason) == (Outcome.warn, "screenshot")


async def test_an_ordinary_photo_and_an_unreadable_file_pass_this_check() -> None:
    # Chat apps strip EXIF: a JPEG of an ordinary photo size without a camera is normal.
    assert (await judge(encode((1200, 1600), "JPEG"))).outcome is Outcome.passed
    facts = image_facts(b"not an image")
    assert facts.format == "" and len(facts.sha256) == 64
    assert (await judge(b"not an image")).outcome is Outcome.passed


async def test_an_editor_named_deep_in_a_pngs_xmp_packet_is_found() -> None:
    packet = "<x:xmpmeta>" + "<rdf:Description/>" * 40 + "<xmp:CreatorTool>Adobe Photoshop 25.0"
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet + "</xmp:CreatorTool></x:xmpmeta>")
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1600), "white").save(buffer, "PNG", pnginfo=info)
    facts = image_facts(buffer.getvalue())
    assert facts.software == "Photoshop" and len(facts.software) < 120
    assert (await judge(buffer.getvalue())).reason == "edited"

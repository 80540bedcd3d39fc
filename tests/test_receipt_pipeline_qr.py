"""The shop's join QR printed on its receipts (the QR kit's receipt-printer PNG) proves a
receipt is the shop's even when its name is misread; another shop's QR proves nothing.
Real OCR and real QR decoding on photographed receipts, on PostgreSQL."""

from __future__ import annotations

import qrcode
from PIL import Image

from loyalchat.context import tenant_context
from loyalchat.receipts import pipeline
from loyalchat.settings import get_settings
from tests.bot_helpers import CHAT
from tests.receipt_pipeline_support import draw_shop_receipt, make_sender, make_shop, photo, send


def with_qr(paper: Image.Image, link: str) -> Image.Image:
    """``paper`` lengthened by a QR code of ``link`` at its foot, as a POS prints it."""
    code = qrcode.make(link, box_size=6, border=2).convert("RGB")
    out = Image.new("RGB", (paper.width, paper.height + code.height + 40), (250, 250, 246))
    out.paste(paper, (0, 0))
    out.paste(code, ((paper.width - code.width) // 2, paper.height + 20))
    return out


def chat_link(slug: str, code: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/t/{slug}/chat?join={code}"


async def test_the_shops_join_qr_proves_a_receipt_whose_name_is_misread(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230011")
        # The header prints a name the profile does not know (a new till, a typo)...
        unknown = draw_shop_receipt("MQ FOODS LIMITED", number="Q1")
        plain = await pipeline.process(await send(amy, photo(unknown, seed=5)))
        assert (plain.status, plain.reasons) == ("rejected", ["other_shop"]), plain.checks
        # ...but the shop's own join QR for a branch at its foot settles it.
        printed = with_qr(
            draw_shop_receipt("MQ FOODS LIMITED", number="Q2"),
            chat_link("demo-cafe", "demo-cafe%23tst"),
        )
        proved = await pipeline.process(await send(amy, photo(printed, seed=6)))
        assert proved.status == "credited", proved.checks
        merchant = next(c for c in proved.checks if c["check"] == "merchant")
        assert "QR" in merchant["detail"], merchant


async def test_another_shops_join_qr_proves_nothing(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230012")
        other = with_qr(
            draw_shop_receipt("MQ FOODS LIMITED", number="Q3"),
            chat_link("demo-cafe2", "demo-cafe2"),
        )
        result = await pipeline.process(await send(amy, photo(other, seed=7)))
        assert (result.status, result.reasons) == ("rejected", ["other_shop"]), result.checks

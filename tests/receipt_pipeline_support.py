"""Shared by the receipt pipeline tests (no tests here): a shop whose receipts are drawn
with its name, total, date and number, photographed like a phone does, and a member in a
chat who sends them.

The receipts are drawn with Pillow and Noto Sans CJK (``tests/drawn_receipts.py``) and put
through the synthetic generator's camera (:func:`loyalchat.tools.receipt_synth.photograph`:
a table, tilt, light, noise, JPEG), so the real OCR engine reads a real photo.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw

from loyalchat.context import tenant_context
from loyalchat.conversations.tables import Conversation, OutboundMessage
from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.media import store
from loyalchat.members.tables import Member
from loyalchat.receipts import service
from loyalchat.receipts.settings import ReceiptRules, save_receipt_settings
from loyalchat.rules import service as rule_service
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import scoped_select, scoped_update
from loyalchat.tenants.tables import Tenant
from loyalchat.tools.receipt_synth import photograph
from tests.bot_helpers import CHAT, conversation_row, open_conversation, say
from tests.drawn_receipts import font
from tests.fixtures import World, make_world

SHOP = "DEMO CAFE"


def draw_shop_receipt(
    shop: str = SHOP,
    total: Decimal = Decimal("123.40"),
    on: date | None = None,
    number: str = "A10023",
    items: int = 2,
) -> Image.Image:
    """A paper receipt printing ``shop``, ``number``, ``on`` (default today in Hong Kong)
    and ``total`` (``items`` lines that add up to it: more lines, a longer receipt)."""
    on = on or hk_today()
    names = ["Latte x2", "Cheesecake", "Americano", "Croissant", "Iced tea", "Muffin"]
    each = (total / items).quantize(Decimal("0.01"))
    prices = [each] * (items - 1) + [total - each * (items - 1)]
    lines = [
        (shop, 40),
        ("Shop 3, 8 Queen's Road Central", 26),
        ("Tel 2345 6789", 26),
        (f"Receipt No: {number}", 28),
        (f"Date: {on.isoformat()}  12:30", 28),
        *((f"{names[i % len(names)]:<18}{price:.2f}", 28) for i, price in enumerate(prices)),
        (f"TOTAL      HK$ {total:.2f}", 34),
        ("CASH", 28),
        ("Thank you!", 28),
    ]
    image = Image.new("RGB", (620, 80 + 60 * len(lines)), (250, 250, 246))
    pen = ImageDraw.Draw(image)
    y = 40
    for text, size in lines:
        pen.text((40, y), text, fill=(25, 25, 25), font=font(size))
        y += 60
    return image


def photo(paper: Image.Image, seed: int = 1, difficulty: float = 0.15) -> bytes:
    """A JPEG of ``paper`` lying on a table, as a phone takes it (seeded)."""
    picture, rotation = photograph(paper, random.Random(seed), difficulty)
    if rotation:
        picture = picture.rotate(-rotation, expand=True)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=88)
    return out.getvalue()


def blank_photo() -> bytes:
    """A photo of nothing: a grey table."""
    rng = random.Random(5)
    image = Image.new("RGB", (1200, 1600), (120, 110, 100))
    pen = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randint(0, 1200), rng.randint(0, 1600)
        pen.ellipse((x, y, x + 40, y + 40), fill=(110 + rng.randint(0, 20),) * 3)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def hk_today() -> date:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


async def make_shop(
    slug: str = "demo-cafe", name: str = "Demo Cafe", *, total_label: bool = True
) -> World:
    """A tenant whose names are printed on its receipts, earning 1 point per HK$1.

    Its receipt profile knows the label its till prints before the total (``TOTAL``), as
    the profile page learns from sample receipts: the total is then read surely enough
    to credit without asking. ``total_label=False``: a shop without a profile (the
    member is asked to confirm the total)."""
    world = await make_world(slug)
    await Tenant.update({Tenant.display_name: name, Tenant.legal_name: "示範咖啡"}).where(
        Tenant.id == world.id
    )
    with tenant_context(world.id, CHAT):
        await rule_service.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        if total_label:
            profile = ReceiptProfile(merchant_names=(SHOP,), total_labels=("TOTAL",))
            await save_receipt_settings(ReceiptRules(profile=profile))
    return world


@dataclass
class Sender:
    """A member in a WhatsApp chat with the shop."""

    conversation_id: int
    member_id: int


async def make_sender(sender: str = "85291234567", locale: str = "en") -> Sender:
    """A member who joined by writing to the shop (call in the tenant's context)."""
    conversation = await open_conversation(sender=sender)
    await say(conversation, "hi" if locale == "en" else "你好", sender=sender)
    member_id = (await conversation_row(conversation))["member"]
    await scoped_update(
        Conversation, {Conversation.last_inbound_at: datetime.now(UTC), Conversation.locale: locale}
    ).where(Conversation.id == conversation)
    return Sender(conversation, member_id)


async def send(who: Sender, data: bytes, message_id: int | None = None) -> int:
    """The member sends ``data``: stored, and a receipt received (call in tenant context)."""
    key = await store.save(data, kind="chat_image")
    return await service.receive(
        media_key=key,
        member_id=who.member_id,
        conversation_id=who.conversation_id,
        inbound_message_id=message_id,
    )


async def replies_to(who: Sender) -> list[str]:
    rows = (
        await scoped_select(OutboundMessage, OutboundMessage.text)
        .where(OutboundMessage.conversation == who.conversation_id)
        .order_by(OutboundMessage.id)
    )
    return [row["text"] for row in rows]


async def balance_matches_entries(member_id: int) -> int:
    """The member's balance, checked against the sum of their ledger entries."""
    member = await scoped_select(Member, Member.points).where(Member.id == member_id).first()
    entries = await scoped_select(LedgerEntry, LedgerEntry.points).where(
        LedgerEntry.member == member_id
    )
    total = sum(row["points"] for row in entries)
    assert member["points"] == total, (member["points"], total)
    return total

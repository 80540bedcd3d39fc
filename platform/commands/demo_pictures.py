"""Pictures for the demo's rewards, drawn with Pillow when the demo is made (nothing is
downloaded): a coffee cup, a cake slice, a voucher, a stored-value card, in the shop's
teal with warm accents.

They are stored through the media store the console's picture upload uses, so the wallet
catalogue and the console show them like any uploaded picture.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

from loyalchat.media import images
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardOut

SIZE = 480  # pixels a side, as stored
_SCALE = 2  # drawn larger and scaled down: smooth edges without antialiasing support

# The shop's colours (the wallet's and console's --brand palette) and warm accents.
TEAL = (15, 118, 110)
TEAL_DARK = (17, 94, 89)
TEAL_SOFT = (204, 251, 241)
CREAM = (255, 247, 237)
WHITE = (255, 255, 255)
COFFEE = (120, 72, 44)
CRUMB = (244, 208, 140)
CHERRY = (220, 38, 38)
GOLD = (234, 179, 8)
ICING = (253, 226, 228)

Drawing = Callable[[ImageDraw.ImageDraw, int], None]


def _coffee_cup(draw: ImageDraw.ImageDraw, s: int) -> None:
    # Three wisps of steam, the saucer, the cup with its handle, the coffee from above.
    for x in (0.40, 0.5, 0.60):
        wisp = [
            (s * x + s * 0.025 * math.sin(step / 3), s * (0.32 - step * 0.012))
            for step in range(16)
        ]
        draw.line(wisp, fill=TEAL, width=max(3, s // 50), joint="curve")
    draw.ellipse([s * 0.16, s * 0.70, s * 0.84, s * 0.86], fill=TEAL_DARK)
    draw.ellipse([s * 0.2, s * 0.69, s * 0.8, s * 0.82], fill=WHITE)
    draw.ellipse([s * 0.64, s * 0.46, s * 0.86, s * 0.66], outline=TEAL, width=max(4, s // 28))
    draw.polygon(
        [(s * 0.24, s * 0.42), (s * 0.76, s * 0.42), (s * 0.70, s * 0.74), (s * 0.30, s * 0.74)],
        fill=TEAL,
    )
    draw.rounded_rectangle([s * 0.29, s * 0.64, s * 0.71, s * 0.78], radius=s // 12, fill=TEAL)
    draw.rectangle([s * 0.255, s * 0.50, s * 0.745, s * 0.55], fill=WHITE)
    draw.ellipse([s * 0.24, s * 0.37, s * 0.76, s * 0.47], fill=TEAL_DARK)
    draw.ellipse([s * 0.27, s * 0.385, s * 0.73, s * 0.455], fill=COFFEE)


def _cake_slice(draw: ImageDraw.ImageDraw, s: int) -> None:
    # A wedge seen from the side: sponge and cream layers, icing, a cherry.
    draw.ellipse([s * 0.14, s * 0.74, s * 0.86, s * 0.88], fill=TEAL_DARK)
    draw.ellipse([s * 0.17, s * 0.73, s * 0.83, s * 0.85], fill=WHITE)
    front = [(s * 0.22, s * 0.46), (s * 0.62, s * 0.46), (s * 0.62, s * 0.76), (s * 0.22, s * 0.76)]
    side = [(s * 0.62, s * 0.46), (s * 0.80, s * 0.36), (s * 0.80, s * 0.64), (s * 0.62, s * 0.76)]
    draw.polygon(front, fill=CRUMB)
    draw.polygon(side, fill=(231, 189, 116))
    for top in (0.55, 0.65):
        draw.rectangle([s * 0.22, s * top, s * 0.62, s * (top + 0.035)], fill=CREAM)
        draw.polygon(
            [
                (s * 0.62, s * top),
                (s * 0.80, s * (top - 0.07)),
                (s * 0.80, s * (top - 0.035)),
                (s * 0.62, s * (top + 0.035)),
            ],
            fill=CREAM,
        )
    draw.polygon(
        [(s * 0.22, s * 0.46), (s * 0.44, s * 0.30), (s * 0.80, s * 0.36), (s * 0.62, s * 0.46)],
        fill=ICING,
    )
    draw.rectangle([s * 0.22, s * 0.44, s * 0.62, s * 0.48], fill=ICING)
    draw.ellipse([s * 0.46, s * 0.25, s * 0.56, s * 0.35], fill=CHERRY)
    draw.line([(s * 0.51, s * 0.26), (s * 0.55, s * 0.17)], fill=TEAL_DARK, width=max(2, s // 80))


def _voucher(draw: ImageDraw.ImageDraw, s: int) -> None:
    # A ticket with notched sides, a perforation and a big "$" badge.
    box = [s * 0.12, s * 0.28, s * 0.88, s * 0.72]
    draw.rounded_rectangle(box, radius=s // 20, fill=TEAL)
    for x in (0.12, 0.88):
        draw.ellipse([s * (x - 0.05), s * 0.45, s * (x + 0.05), s * 0.55], fill=CREAM)
    for step in range(8):
        top = s * (0.31 + step * 0.05)
        draw.rectangle([s * 0.66, top, s * 0.675, top + s * 0.025], fill=CREAM)
    draw.ellipse([s * 0.22, s * 0.36, s * 0.50, s * 0.64], fill=GOLD)
    font = ImageFont.load_default(size=int(s * 0.2))
    draw.text((s * 0.36, s * 0.50), "$", font=font, fill=WHITE, anchor="mm")
    for top in (0.40, 0.48, 0.56):
        draw.rounded_rectangle(
            [s * 0.72, s * top, s * 0.82, s * (top + 0.035)], radius=s // 80, fill=TEAL_SOFT
        )


def _card(draw: ImageDraw.ImageDraw, s: int) -> None:
    # A stored-value card, a second one peeking out behind it, with a chip and a coin.
    draw.rounded_rectangle([s * 0.20, s * 0.24, s * 0.84, s * 0.62], radius=s // 24, fill=TEAL_DARK)
    draw.rounded_rectangle([s * 0.14, s * 0.34, s * 0.78, s * 0.74], radius=s // 24, fill=TEAL)
    draw.rectangle([s * 0.14, s * 0.42, s * 0.78, s * 0.48], fill=TEAL_DARK)
    draw.rounded_rectangle([s * 0.20, s * 0.53, s * 0.32, s * 0.62], radius=s // 60, fill=GOLD)
    for left in (0.38, 0.48, 0.58):
        draw.rounded_rectangle(
            [s * left, s * 0.65, s * (left + 0.07), s * 0.68], radius=s // 100, fill=TEAL_SOFT
        )
    draw.ellipse([s * 0.62, s * 0.56, s * 0.86, s * 0.80], fill=GOLD)
    draw.ellipse([s * 0.66, s * 0.60, s * 0.82, s * 0.76], outline=CREAM, width=max(2, s // 80))


DRAWINGS: dict[str, Drawing] = {
    "coffee": _coffee_cup,
    "cake": _cake_slice,
    "voucher": _voucher,
    "card": _card,
}


def draw_picture(kind: str) -> bytes:
    """One of :data:`DRAWINGS` as a PNG of :data:`SIZE` pixels a side."""
    big = SIZE * _SCALE
    image = Image.new("RGB", (big, big), TEAL_SOFT)
    draw = ImageDraw.Draw(image)
    draw.ellipse([big * 0.08, big * 0.08, big * 0.92, big * 0.92], fill=CREAM)
    DRAWINGS[kind](draw, big)
    out = io.BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def picture_for(reward: RewardOut) -> str:
    """Which drawing suits a reward: by its type, then by words in its English name."""
    if reward.type == "stored_value":
        return "card"
    name = " ".join(reward.name.values()).lower()
    if any(word in name for word in ("coffee", "tea", "latte", "咖啡", "茶")):
        return "coffee"
    if any(word in name for word in ("cake", "dessert", "pastry", "蛋糕", "甜品")):
        return "cake"
    return "voucher"


async def add_demo_pictures() -> int:
    """Give each reward of the current (demo) tenant without a picture its drawing.

    Idempotent: rewards that have a picture (drawn before, or uploaded) are left alone.
    Returns how many rewards got one.
    """
    added = 0
    for reward in (await rewards.list_rewards(limit=200)).items:
        if reward.image:
            continue
        # The way an upload from the console goes: re-encoded as the JPEG every reward
        # picture is (the API's image route says so).
        key = await images.save_web_image(draw_picture(picture_for(reward)), kind="reward_image")
        await rewards.update_reward(reward.id, {"image": key})
        added += 1
    return added

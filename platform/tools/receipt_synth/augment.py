"""Turn a flat receipt into a phone photo of it: paper on a table, tilted, badly lit.

Every effect is optional and drawn from the rng; ``difficulty`` (0-1) scales both how
often effects happen and how strong they are. ``difficulty=0`` returns the flat paper.
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

TABLES = (
    (150, 108, 70),  # wood
    (96, 66, 44),  # dark wood
    (120, 122, 126),  # grey desk
    (42, 43, 48),  # black counter
    (214, 210, 200),  # light table: low contrast with the paper
    (70, 96, 130),  # blue cloth
    (188, 180, 168),  # marble
)


def photograph(
    paper: Image.Image, rng: random.Random, difficulty: float = 0.5
) -> tuple[Image.Image, int]:
    """A photo of ``paper`` and its quarter-turn rotation (0, 90, 180 or 270).

    The rotation is counter-clockwise, as in ``Image.rotate``: undo it with
    ``photo.rotate(-rotation, expand=True)``.
    """
    d = min(max(difficulty, 0.0), 1.0)
    if d == 0:
        return paper.convert("RGB"), 0
    nprng = np.random.default_rng(rng.getrandbits(64))
    sheet = _torn(paper.convert("RGBA"), rng)
    if rng.random() < 0.5 * d:
        sheet = _crumple(sheet, rng, nprng, d)
    photo = _on_table(sheet, rng, nprng, d)
    light = _lighting(photo.size, rng, d)
    pixels = np.asarray(photo, dtype=np.float32) * light[..., None]
    if rng.random() < 0.25 * d:  # low light: dim, warm and noisy
        pixels *= rng.uniform(0.45, 0.7)
        pixels *= np.array((1.0, 0.93, 0.8), dtype=np.float32)
        noise = rng.uniform(4, 10)
    else:
        noise = rng.uniform(0, 6 * d)
    if noise > 0.5:
        pixels += nprng.normal(0, noise, size=pixels.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    photo = _blur(photo, rng, d)
    long_receipt = paper.height > 3 * paper.width  # keep its small print readable
    photo = _resize(photo, 1600 if long_receipt else rng.randint(1100, 1600))
    if rng.random() < 0.5 * d:
        photo = _jpeg_round_trip(photo, rng.randint(round(70 - 45 * d), 75))
    rotation = 0
    if rng.random() < 0.08 * d:  # rare: sent sideways or upside down
        rotation = rng.choice((90, 180, 270))
        photo = photo.rotate(rotation, expand=True)
    return photo, rotation


def _torn(sheet: Image.Image, rng: random.Random) -> Image.Image:
    """Zig-zag top and bottom edges where the printer's cutter tore the roll."""
    w, h = sheet.size
    alpha = Image.new("L", sheet.size, 255)
    draw = ImageDraw.Draw(alpha)
    tooth = rng.randint(5, 10)
    depth = rng.randint(2, 5)
    for edge in (0, h):
        sign = 1 if edge == 0 else -1
        points = [(0, edge)]
        for i, x in enumerate(range(0, w + tooth, tooth)):
            points.append((x, edge + sign * (depth if i % 2 else rng.randint(0, 1))))
        points.append((w, edge))
        draw.polygon(points, fill=0)
    sheet.putalpha(alpha)
    return sheet


def _crumple(
    sheet: Image.Image, rng: random.Random, nprng: np.random.Generator, d: float
) -> Image.Image:
    """Handled paper: a smooth wavy warp and a few fold creases with shading."""
    w, h = sheet.size
    step = 32
    nx, ny = w // step + 2, h // step + 2
    amp = rng.uniform(1.0, 2.0 + 4 * d)
    dx, dy = (_smooth_noise(nprng, (ny, nx), cells=max(2, h // 220)) * amp for _ in range(2))
    mesh = []
    for j in range(ny - 1):
        for i in range(nx - 1):
            x0, y0, x1, y1 = i * step, j * step, (i + 1) * step, (j + 1) * step
            quad = (
                x0 + dx[j, i], y0 + dy[j, i],
                x0 + dx[j + 1, i], y1 + dy[j + 1, i],
                x1 + dx[j + 1, i + 1], y1 + dy[j + 1, i + 1],
                x1 + dx[j, i + 1], y0 + dy[j, i + 1],
            )  # fmt: skip
            mesh.append(((x0, y0, x1, y1), quad))
    warped = sheet.transform(sheet.size, Image.Transform.MESH, mesh, Image.Resampling.BILINEAR)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = np.ones((h, w), dtype=np.float32)
    for _ in range(rng.randint(1, 3)):
        # A crease: the two facets catch the light differently, the fold line is darker.
        px, py = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, np.pi)
        dist = (xs - px) * np.sin(angle) - (ys - py) * np.cos(angle)
        facet = rng.uniform(0.02, 0.04 + 0.06 * d)
        shade *= 1 + facet * np.tanh(dist / rng.uniform(20, 120))
        shade *= 1 - rng.uniform(0.03, 0.1) * np.exp(-((dist / 2.5) ** 2))
    rgb = np.asarray(warped, dtype=np.float32).copy()
    rgb[..., :3] *= shade[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGBA")


def _smooth_noise(nprng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Unit-scale random values that vary slowly across ``shape``."""
    coarse = nprng.normal(0, 1, size=(cells + 1, max(2, cells // 2 + 1))).astype(np.float32)
    image = Image.fromarray(coarse, "F").resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32)


def _on_table(
    sheet: Image.Image, rng: random.Random, nprng: np.random.Generator, d: float
) -> Image.Image:
    """Place the paper on a table, tilted and seen in perspective, with a soft shadow."""
    pw, ph = sheet.size
    long_receipt = ph > 3 * pw
    fill = rng.uniform(0.85, 0.97) if long_receipt else rng.uniform(0.7, 0.92)
    aspect = 9 / 16 if long_receipt else rng.choice((3 / 4, 3 / 4, 9 / 16))  # portrait photos
    ch = ph / fill
    cw = max(ch * aspect, pw / rng.uniform(0.55, 0.85))
    ch = max(ch, cw / aspect) if rng.random() < 0.5 else ch
    cw, ch = int(cw), int(ch)
    angle = np.radians(rng.uniform(-1, 1) * (1 + 4 * d))
    cx = cw / 2 + rng.uniform(-0.5, 0.5) * max(cw - pw, 0) * 0.6
    cy = ch / 2 + rng.uniform(-0.5, 0.5) * max(ch - ph, 0) * 0.6
    corners = [(-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2)]
    skew = 0.04 * d * min(pw, ph)
    cos, sin = np.cos(angle), np.sin(angle)
    dst = []
    for x, y in corners:
        x += rng.uniform(-skew, skew)
        y += rng.uniform(-skew, skew)
        dst.append((cx + x * cos - y * sin, cy + x * sin + y * cos))
    if rng.random() < 0.4 * d:  # camera tilted: the far end of the receipt looks narrower
        taper = rng.uniform(0.03, 0.12) * pw
        dst[0] = (dst[0][0] + taper, dst[0][1])
        dst[1] = (dst[1][0] - taper, dst[1][1])
    src = [(0, 0), (pw, 0), (pw, ph), (0, ph)]
    warped = sheet.transform(
        (cw, ch), Image.Transform.PERSPECTIVE, _coefficients(dst, src), Image.Resampling.BICUBIC
    )
    table = _table((cw, ch), rng, nprng)
    alpha = warped.getchannel("A")
    shadow = alpha.filter(ImageFilter.GaussianBlur(rng.uniform(4, 14)))
    offset = (rng.randint(-6, 10), rng.randint(2, 14))
    dark = Image.new("L", (cw, ch), 0)
    dark.paste(shadow, offset)
    shade = 1 - np.asarray(dark, dtype=np.float32) / 255 * rng.uniform(0.25, 0.5)
    table = Image.fromarray(
        (np.asarray(table, dtype=np.float32) * shade[..., None]).astype(np.uint8)
    )
    table.paste(warped.convert("RGB"), (0, 0), alpha)
    return table


def _coefficients(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """PIL perspective coefficients mapping output points ``dst`` back to input ``src``."""
    rows, values = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.array(rows, dtype=float), np.array(values, dtype=float)).tolist()


def _table(size: tuple[int, int], rng: random.Random, nprng: np.random.Generator) -> Image.Image:
    """A table top: a base colour, large soft blotches and, for wood, a grain."""
    w, h = size
    index = rng.randrange(len(TABLES))
    base = np.array(TABLES[index], dtype=np.float32)
    blotch = nprng.normal(1.0, 0.06, size=(6, 6)).astype(np.float32)
    blotch_img = Image.fromarray(np.clip(blotch * 128, 0, 255).astype(np.uint8), "L")
    texture = np.asarray(blotch_img.resize((w, h), Image.Resampling.BICUBIC), np.float32) / 128
    if index < 2:  # wood: fine irregular grain along one axis
        length = h if rng.random() < 0.5 else w
        phase = np.cumsum(nprng.normal(0, 0.15, length)) + np.linspace(
            0, rng.uniform(60, 160), length
        )
        grain = 1 + 0.035 * np.sin(phase) + 0.02 * nprng.normal(0, 1, length)
        grain = grain.astype(np.float32)
        texture = texture * (grain[:, None] if length == h else grain[None, :])
    texture = texture + nprng.normal(0, 0.015, size=(h, w)).astype(np.float32)
    pixels = np.clip(base[None, None, :] * texture[..., None], 0, 255)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def _lighting(size: tuple[int, int], rng: random.Random, d: float) -> np.ndarray:
    """Brightness multiplier: a gradient across the photo and sometimes a cast shadow."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-1, 1) * 0.3 * d, rng.uniform(-1, 1) * 0.3 * d
    light = 1.0 + gx * (xs / w - 0.5) + gy * (ys / h - 0.5)
    radius = np.hypot(xs / w - 0.5, ys / h - 0.5)
    light *= 1 - rng.uniform(0, 0.35 * d) * radius**2 * 2  # vignette
    if rng.random() < 0.45 * d:  # the phone's or a hand's shadow falling across the receipt
        mask = Image.new("L", size, 0)
        side = rng.choice(("left", "right", "top", "bottom"))
        reach = rng.uniform(0.2, 0.55)
        box = {
            "left": (-w, rng.uniform(-0.2, 0.5) * h, reach * w, rng.uniform(0.6, 1.2) * h),
            "right": (
                (1 - reach) * w,
                rng.uniform(-0.2, 0.5) * h,
                2 * w,
                rng.uniform(0.6, 1.2) * h,
            ),
            "top": (rng.uniform(-0.2, 0.4) * w, -h, rng.uniform(0.6, 1.2) * w, reach * h),
            "bottom": (
                rng.uniform(-0.2, 0.4) * w,
                (1 - reach) * h,
                rng.uniform(0.6, 1.2) * w,
                2 * h,
            ),
        }[side]
        ImageDraw.Draw(mask).ellipse(box, fill=255)
        mask = mask.filter(ImageFilter.GaussianBlur(max(w, h) * rng.uniform(0.02, 0.06)))
        light *= 1 - np.asarray(mask, dtype=np.float32) / 255 * rng.uniform(0.25, 0.5)
    return light


def _blur(photo: Image.Image, rng: random.Random, d: float) -> Image.Image:
    roll = rng.random()
    if roll < 0.35 * d:  # out of focus
        return photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.6 + 1.6 * d)))
    if roll < 0.5 * d:  # hand shake: a short line kernel
        kernel = [[0.0] * 5 for _ in range(5)]
        for i in range(5):
            kernel[2][i] = 1.0
        if rng.random() < 0.5:
            kernel = [list(col) for col in zip(*kernel, strict=True)]
        flat = [v for row in kernel for v in row]
        return photo.filter(ImageFilter.Kernel((5, 5), flat, scale=5))
    return photo


def _resize(photo: Image.Image, target: int) -> Image.Image:
    """Chat apps send at most about 1600 px on the long side."""
    scale = target / max(photo.size)
    if scale >= 1:
        return photo
    size = (round(photo.width * scale), round(photo.height * scale))
    return photo.resize(size, Image.Resampling.LANCZOS)


def _jpeg_round_trip(photo: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")

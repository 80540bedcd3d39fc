"""Receipt photo fingerprints for the *duplicate* check: the same file, or the same receipt again.

Two fingerprints per photo, both hex strings that fit a database column:

- ``sha256`` of the bytes as sent: the same file forwarded or sent by another member.
- ``perceptual``: a hash of what the photo shows, meant to put the same paper receipt
  photographed a second time (another angle, crop, light, blur, JPEG quality, a
  screenshot of the photo) within a small Hamming distance. It does not separate it from
  another receipt of the same shop well enough to reject on (below).

How the perceptual hash is made (:func:`perceptual_hash`): the photo goes through the
receipt reader's checks (:func:`loyalchat.receipts.reading.image.prepare`: formats, byte
and pixel limits from the header, so a decompression bomb is refused before decoding),
is decoded small and grey, the table around the paper painted out, turned straight
(:func:`straightened`: the angle at which the rows of print project most sharply, within
+-:data:`MAX_SKEW` degrees) and cut to the printed part (so another margin, framing or
table no longer matters), and hashed with :data:`METHOD`.

The method was chosen by ``bench/receipt_dupes.py`` (300 real SROIE photos, 3 simulated
re-captures each, companies split in a tuning and a held-out half by seed 11). Its finding
is negative: **no perceptual distance tells "the same receipt again" from "another receipt
of the same shop"**. SROIE's UNIHAKKA receipts (one layout, a few digits apart) are 0-8
bits apart by every method tried, while re-captures of one receipt spread far wider
(whash16_trim, held out: re-captures median 38 of 256 bits, p99 112; different receipts
of one company min 12, p1 24). So :data:`THRESHOLD` is None: only the exact hash decides
(:func:`same_receipt`), since a false match would reject a real customer's receipt as
"already used". :func:`looks_alike` (:data:`REVIEW_DISTANCE`) is a hint for a person to
look at: held out it flags 28 of 149,056 different-receipt pairs (all 28 from the same
company: 0.34 % of 8,144) and finds only 12.9 % of re-captures (106 of 822). Catching the
same receipt photographed again is left to the key check (merchant, receipt number, date
and total) or to a pairwise image alignment on the few candidates the hash brings up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image, ImageFilter

from loyalchat.receipts.reading.image import ImageRejected, prepare

__all__ = [
    "METHOD",
    "REVIEW_DISTANCE",
    "THRESHOLD",
    "Fingerprint",
    "ImageRejected",
    "distance",
    "fingerprint",
    "looks_alike",
    "paper_mask",
    "perceptual_hash",
    "receipt_gray",
    "same_receipt",
    "straightened",
]

WORK_LONG_SIDE = 768  # decode size: hashes end at 32 x 32, deskewing needs legible rows
WORK_SHORT_SIDE = 384
MAX_SKEW = 6.0  # degrees either way; a photo turned further is not "the same shot again"
INK_CONTRAST = 24  # grey levels below the neighbourhood's mean that count as print
EDGE_LINE = 0.6  # a row or column this full of 'print' is an edge
INK_TAIL = 0.03  # share of the print left outside the box at each side (specks, slivers)

# Chosen by bench/receipt_dupes.py (figures in the module docstring).
METHOD = "whash16_trim"
THRESHOLD: int | None = None  # no perceptual distance is safe to reject on by itself
REVIEW_DISTANCE = 19  # flags <= 0.1 % of different-receipt pairs on the tuning half


@dataclass(frozen=True)
class Fingerprint:
    """What the duplicate check stores per receipt photo: two lowercase hex strings."""

    sha256: str  # 64 hex digits, of the bytes as received
    perceptual: str  # the bits of :data:`METHOD`, in hex


def fingerprint(image_bytes: bytes) -> Fingerprint:
    """The exact and perceptual fingerprints of a receipt photo.

    Raises :class:`ImageRejected` (a ``ValueError`` with a stable ``reason``) for bytes
    that are not an acceptable JPEG, PNG or WebP: empty, another format, damaged, or too
    many pixels by the header (checked before decoding).
    """
    return Fingerprint(
        sha256=hashlib.sha256(image_bytes).hexdigest(),
        perceptual=perceptual_hash(straightened(receipt_gray(image_bytes))),
    )


def distance(a: Fingerprint | str, b: Fingerprint | str) -> int:
    """Hamming distance between two perceptual hashes (fingerprints or their hex)."""
    left = a.perceptual if isinstance(a, Fingerprint) else a
    right = b.perceptual if isinstance(b, Fingerprint) else b
    if len(left) != len(right):
        raise ValueError(
            f"perceptual hashes of different lengths ({len(left)}, {len(right)} hex digits): "
            "made by different methods"
        )
    return (int(left, 16) ^ int(right, 16)).bit_count()


def same_receipt(a: Fingerprint, b: Fingerprint) -> bool:
    """True when two photos are surely the same receipt: today, the same file.

    A perceptual distance joins in only if :data:`THRESHOLD` is set (see the module
    docstring for why it is not).
    """
    if a.sha256 == b.sha256:
        return True
    return THRESHOLD is not None and distance(a, b) <= THRESHOLD


def looks_alike(a: Fingerprint, b: Fingerprint) -> bool:
    """A hint that two photos may show one receipt, for review; never a reason to reject."""
    return a.sha256 == b.sha256 or distance(a, b) <= REVIEW_DISTANCE


def receipt_gray(image_bytes: bytes) -> Image.Image:
    """The photo checked, upright (EXIF), decoded small and grey. Raises ImageRejected."""
    prepared = prepare(
        image_bytes,
        max_side=WORK_LONG_SIDE,
        max_short_side=WORK_SHORT_SIDE,
        max_output_pixels=WORK_LONG_SIDE * WORK_SHORT_SIDE,
    )
    return Image.fromarray(prepared.array).convert("L")


def ink_mask(gray: Image.Image) -> np.ndarray:
    """True where a pixel is clearly darker than its neighbourhood: print, on any background."""
    radius = max(4, min(gray.size) // 40)
    local = np.asarray(gray.filter(ImageFilter.BoxBlur(radius)), dtype=np.int16)
    return np.asarray(gray, dtype=np.int16) < local - INK_CONTRAST


def skew_angle(ink: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise) that makes the rows of print horizontal.

    ``ink`` is a mask (255 = print). Classic projection profile: rows of print give the
    sharpest row-sum profile when level. Steps of 1 degree, then quarter degrees.
    """
    if max(ink.size) > 512:  # the angle needs no more
        scale = 512 / max(ink.size)
        ink = ink.resize((max(1, round(ink.width * scale)), max(1, round(ink.height * scale))))

    def sharpness(angle: float) -> float:
        rows = np.asarray(ink.rotate(angle, resample=Image.Resampling.BILINEAR), dtype=np.float32)
        return float(np.square(np.diff(rows.sum(axis=1))).sum())

    steps = int(MAX_SKEW)
    best = max(range(-steps, steps + 1), key=lambda a: sharpness(float(a)))
    return max((best + d / 4 for d in range(-3, 4)), key=sharpness)


def straightened(gray: Image.Image) -> Image.Image:
    """The photo with the table painted out, turned level and cut to the print.

    Painting out what is not paper (:func:`paper_mask`) drops the table and the shadows
    around the receipt; cutting to the print drops the blank margins, so two photos framed
    differently agree. The whole picture is kept when too little print is found.
    """
    pixels = np.asarray(gray)
    paper = paper_mask(pixels)
    level = int(np.median(pixels[paper])) if paper.any() else int(np.median(pixels))
    clean = Image.fromarray(np.where(paper, pixels, level).astype(np.uint8))
    ink = Image.fromarray((ink_mask(clean) & paper).astype(np.uint8) * 255)
    angle = skew_angle(ink)
    if angle:
        turn = {"resample": Image.Resampling.BILINEAR, "expand": True}
        clean = clean.rotate(angle, fillcolor=level, **turn)
        ink = ink.rotate(angle, fillcolor=0, **turn)
    box = _ink_box(np.asarray(ink) > 127)
    return clean.crop(box) if box else clean


def paper_mask(pixels: np.ndarray) -> np.ndarray:
    """True on the receipt's paper: the bright side of Otsu's split, its print filled in
    (a closing) and its edge pulled in a few pixels. All True when no paper stands out.

    Worked at a quarter of the size, inside a dark frame: the picture's border counts as
    not paper, so a thin wedge of table along it is not filled in like print.
    """
    height, width = pixels.shape
    bright = Image.fromarray((pixels > _otsu(pixels)).astype(np.uint8) * 255)
    small = np.asarray(bright.reduce(4) if min(height, width) >= 32 else bright)
    framed = Image.fromarray(np.pad(small, 8))
    solid = framed.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(5))
    inner = np.asarray(solid.filter(ImageFilter.MinFilter(5)))[8:-8, 8:-8]
    mask = np.asarray(Image.fromarray(inner).resize((width, height), Image.Resampling.NEAREST))
    mask = mask > 127
    return mask if mask.mean() > 0.2 else np.ones_like(mask)


def perceptual_hash(image: Image.Image, method: str = METHOD) -> str:
    """The hex perceptual hash of a straightened receipt by one of :data:`METHODS`."""
    return METHODS[method](image)


def _otsu(pixels: np.ndarray) -> int:
    """The grey level that best splits ``pixels`` in two classes (Otsu's method)."""
    hist = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * np.arange(256))
    total, total_mean = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * weight - mean * total) ** 2 / (weight * (total - weight))
    return int(np.nanargmax(between)) if np.isfinite(between).any() else 127


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) holding all but :data:`INK_TAIL` of the print at each side.

    Cut by the print's mass, not its first and last speck, so a fleck of dirt or a sliver
    of table at the paper's edge does not move the box. None when there is too little
    print to trust.
    """
    height, width = ink.shape
    # Lines that run most of the way across are the paper's or the scanner's edge, not print.
    ink = ink & (ink.mean(axis=0) < EDGE_LINE)[None, :] & (ink.mean(axis=1) < EDGE_LINE)[:, None]
    total = int(ink.sum())
    if total < 50:
        return None
    left, right = _quantiles(ink.sum(axis=0), total)
    top, bottom = _quantiles(ink.sum(axis=1), total)
    if right - left < width // 5 or bottom - top < height // 5:
        return None
    return (left, top, right, bottom)


def _quantiles(counts: np.ndarray, total: int) -> tuple[int, int]:
    cumulative = np.cumsum(counts)
    first = int(np.searchsorted(cumulative, total * INK_TAIL))
    last = int(np.searchsorted(cumulative, total * (1 - INK_TAIL)))
    return first, last + 1


def _hex(*hashes: imagehash.ImageHash) -> str:
    return "".join(str(h) for h in hashes)


def _whash(image: Image.Image, size: int = 8) -> imagehash.ImageHash:
    """Haar wavelet hash at a fixed 64 x 64 scale: by default the scale follows the
    picture's size, so two photos of one receipt at different sizes would differ."""
    return imagehash.whash(image, hash_size=size, image_scale=64)


def _ink_image(image: Image.Image) -> Image.Image:
    return Image.fromarray(np.where(ink_mask(image), 0, 255).astype(np.uint8))


# Candidate methods on a straightened receipt; bench/receipt_dupes.py compares them (and
# the same hashes of the unstraightened photo) and METHOD names the one in use.
METHODS = {
    "phash_trim": lambda im: _hex(imagehash.phash(im)),
    "phash16_trim": lambda im: _hex(imagehash.phash(im, hash_size=16)),
    "dhash_trim": lambda im: _hex(imagehash.dhash(im)),
    "dhash16_trim": lambda im: _hex(imagehash.dhash(im, hash_size=16)),
    "whash_trim": lambda im: _hex(_whash(im)),
    "whash16_trim": lambda im: _hex(_whash(im, 16)),
    "dhash_whash_trim": lambda im: _hex(imagehash.dhash(im), _whash(im)),
    "phash_ink": lambda im: _hex(imagehash.phash(_ink_image(im))),
    "multi_trim": lambda im: _hex(imagehash.phash(im), imagehash.dhash(im), _whash(im)),
}

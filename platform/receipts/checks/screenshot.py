"""Is this a photo of paper? Screenshots and edited images go to staff review.

Judged from the file, never its pixels: the app that last wrote it (EXIF ``Software``,
a PNG's text chunks) naming a photo editor, or a "Screenshot" marker, or an image with no
camera in its metadata at exactly a phone's or computer's screen size. Chat apps strip
EXIF from photos, so a missing camera alone proves nothing; a camera's photo is almost
never exactly screen-sized, but it may be: that is why these only warn, never reject.
"""

from __future__ import annotations

import hashlib
import io
import re

from PIL import Image, UnidentifiedImageError

from loyalchat.receipts.checks.base import CheckResult, ImageFacts, ReceiptFacts, ShopProfile

_SOFTWARE = 0x0131
_MAKE = 0x010F
_MODEL = 0x0110
_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286

# Apps whose name in the Software tag means the picture was reworked after it was taken.
EDITORS = re.compile(
    r"photoshop|lightroom|snapseed|gimp|picsart|pixelmator|affinity|canva|facetune|meitu"
    r"|美图|美圖|醒图|vsco|paint\.net|illustrator|photoscape|fotor|polarr|photopea|photoroom"
    r"|airbrush|luminar|inshot|remini",
    re.IGNORECASE,
)
_SCREENSHOT = re.compile(r"screen ?shot|截屏|截圖|截图|螢幕擷取", re.IGNORECASE)

# Screen resolutions in pixels (portrait); a screenshot has exactly one of these sizes.
SCREENS: frozenset[tuple[int, int]] = frozenset(
    {
        # iPhone
        (640, 1136), (750, 1334), (1242, 2208), (1125, 2436), (828, 1792), (1242, 2688),
        (1080, 2340), (1170, 2532), (1284, 2778), (1179, 2556), (1290, 2796), (1206, 2622),
        (1320, 2868),
        # Android phones
        (720, 1280), (720, 1600), (1080, 1920), (1080, 2160), (1080, 2220), (1080, 2280),
        (1080, 2400), (1080, 2408), (1080, 2412), (1220, 2712), (1260, 2800), (1344, 2992),
        (1440, 2560), (1440, 2960), (1440, 3040), (1440, 3088), (1440, 3120), (1440, 3200),
        # iPad
        (1536, 2048), (1620, 2160), (1640, 2360), (1668, 2224), (1668, 2388), (1488, 2266),
        (2048, 2732),
        # computers
        (768, 1366), (900, 1440), (1080, 1920), (1200, 1920), (1440, 2560), (1600, 2560),
        (1800, 2880), (1964, 3024), (2234, 3456),
    }
)  # fmt: skip


def is_screen_size(size: tuple[int, int]) -> bool:
    width, height = size
    return (min(width, height), max(width, height)) in SCREENS


def image_facts(data: bytes) -> ImageFacts:
    """What the file says about itself; an unreadable file gives only its hash.

    Reads the header and metadata only, never decodes the pixels (the reading engine has
    already refused oversized and hostile images).
    """
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            notes = [str(exif.get(_SOFTWARE) or "")]
            notes += [str(value) for key, value in image.info.items() if _is_text(key, value)]
            comment = exif.get_ifd(_EXIF_IFD).get(_USER_COMMENT)
            if isinstance(comment, bytes | str):
                notes.append(_text(comment))
            camera = " ".join(str(exif.get(tag) or "").strip() for tag in (_MAKE, _MODEL))
            return ImageFacts(
                sha256=sha256,
                format=image.format or "",
                size=image.size,
                software=" | ".join(_short(n) for n in notes if n.strip()),
                camera=camera.strip(),
            )
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return ImageFacts(sha256=sha256)


def _is_text(key: object, value: object) -> bool:
    # PNG tEXt/iTXt chunks (Software, XMP, Comment) arrive in ``info`` as strings.
    return isinstance(key, str) and isinstance(value, str) and key.lower() != "icc_profile"


def _short(note: str, limit: int = 120) -> str:
    """A tag as it is; of a long text (a PNG's XMP packet) only the names that matter."""
    note = note.strip()
    if len(note) <= limit:
        return note
    found = [m.group(0) for pattern in (EDITORS, _SCREENSHOT) for m in pattern.finditer(note)]
    return " ".join(dict.fromkeys(found))


def _text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return value.removeprefix(b"ASCII\0\0\0").decode("utf-8", "replace").strip("\0 ")


class ScreenshotCheck:
    name = "screenshot"
    label = "Photo of a paper receipt"
    order = 40

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        facts = receipt.image
        if editor := EDITORS.search(facts.software):
            return CheckResult.warning(
                "edited", f"written by {facts.software[:80]!r}", software=editor.group(0)
            )
        if _SCREENSHOT.search(facts.software):
            return CheckResult.warning("screenshot", f"marked {facts.software[:80]!r}")
        if not facts.camera and is_screen_size(facts.size):
            width, height = facts.size
            return CheckResult.warning(
                "screenshot", f"{facts.format} at {width}x{height}, a screen's size, no camera"
            )
        return CheckResult.ok()

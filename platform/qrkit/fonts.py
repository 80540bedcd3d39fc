"""The CJK font the print files embed, found among the fonts the system packages install.

A PDF that names a font without embedding it prints Chinese as boxes (or nothing) on a
machine without that font, so every file embeds a subset of one of these (the glyphs it
uses: a few kB). Noto Sans CJK (Debian ``fonts-noto-cjk``, which ``scripts/system_deps.sh``
installs) is a collection: the Hong Kong face for Traditional Chinese, the Simplified
Chinese face for Simplified, found by name so the collection's order does not matter. The
other candidates cover systems with another packaged CJK font.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

NOTO = Path("/usr/share/fonts/opentype/noto")
# (file, face names in order of preference per script); a ttf has one face.
CANDIDATES: tuple[tuple[str, dict[str, tuple[str, ...]]], ...] = (
    (
        str(NOTO / "NotoSansCJK-{weight}.ttc"),
        {
            "zh-Hant": ("Noto Sans CJK HK", "Noto Sans CJK TC"),
            "zh-Hans": ("Noto Sans CJK SC",),
        },
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", {}),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", {}),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", {}),
)
# An operator may point at any CJK TrueType/OpenType file (a collection's first face).
ENV_FONT = "LOYALCHAT_QRKIT_FONT"


class FontMissing(RuntimeError):
    """No CJK font to embed: the message names the package that provides one."""


@dataclass(frozen=True, slots=True)
class CjkFont:
    path: str
    index: int  # the face within a collection (0 for a single font)
    name: str


def _faces(path: str) -> list[str]:
    if path.lower().endswith((".ttc", ".otc")):
        return [font["name"].getDebugName(4) or "" for font in TTCollection(path).fonts]
    return [TTFont(path, lazy=True)["name"].getDebugName(4) or ""]


@functools.cache
def cjk_font(locale: str, bold: bool = False) -> CjkFont:
    """The face for ``locale``'s Chinese script (``bold`` for headings, when the system
    has a bold file); raises :class:`FontMissing`."""
    override = os.environ.get(ENV_FONT, "")
    if override:
        if not Path(override).is_file():
            raise FontMissing(f"{ENV_FONT}={override}: no such font file")
        return CjkFont(override, 0, _faces(override)[0])
    script = "zh-Hans" if locale == "zh-Hans" else "zh-Hant"
    for pattern, preferred in CANDIDATES:
        paths = [pattern.format(weight=w) for w in (("Bold", "Regular") if bold else ("Regular",))]
        for path in dict.fromkeys(paths):
            if not Path(path).is_file():
                continue
            faces = _faces(path)
            for wanted in preferred.get(script, ()):
                for index, face in enumerate(faces):
                    if face.startswith(wanted):
                        return CjkFont(path, index, face)
            return CjkFont(path, 0, faces[0])
    raise FontMissing(
        "No Chinese font to embed in the QR kit's print files. Install the Debian package "
        f"fonts-noto-cjk (scripts/system_deps.sh does), or set {ENV_FONT} to a CJK font file."
    )

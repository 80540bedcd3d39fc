"""Pictures for the media tests: a phone photo with EXIF, a decompression bomb, junk."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path

from PIL import Image

from loyalchat.settings import get_settings

# EXIF tags: orientation, camera make, and the GPS block pointer.
ORIENTATION, MAKE, GPS_IFD = 0x0112, 0x010F, 0x8825


def phone_photo(size: tuple[int, int] = (3000, 2000), orientation: int = 6) -> bytes:
    """A JPEG as a phone takes it: sideways pixels plus an EXIF orientation, a camera make
    and a GPS position. Left half red, right half blue (so the turn can be checked)."""
    width, height = size
    image = Image.new("RGB", size, (220, 30, 30))
    image.paste((30, 30, 220), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "SpyCam"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (22.0, 17.0, 0.0), 3: "E", 4: (114.0, 10.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 50_000) -> bytes:
    """A tiny PNG whose header claims ``side`` x ``side`` pixels (2.5 billion by default):
    decoding it would need gigabytes."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\x00" * (1 + side // 8) * 64, 9)  # a few rows, never read
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def too_large(megabytes: int = 9) -> bytes:
    """A file over the 8 MB limit (a JPEG start, then filler)."""
    return b"\xff\xd8\xff\xe0" + b"\0" * (megabytes * 1024 * 1024)


def tenant_files(tenant_id: int) -> list[str]:
    """The names in a tenant's media folder (temporary files included)."""
    folder = get_settings().media_dir / str(tenant_id)
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def clear_media() -> Path:
    """Empty the media folder: tenant ids restart in every test, folders must too."""
    root = get_settings().media_dir
    shutil.rmtree(root, ignore_errors=True)
    return root

"""The fixed development / held-out split of a labelled receipt folder.

A receipt is held out when the first byte of the SHA-256 of its file name (the base name,
not the folder) is divisible by 3: about one third, the same on every machine and for
every copy of the folder, and unchanged when receipts are added or removed. Tune rules
and train models on the development part only; the held-out part is for reporting.

    from loyalchat.tools.receipt_sets import split
    dev, held_out = split(labels)  # labels: the list in labels.json

``bench/receipts.py`` and every training script use this one function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import TypeVar

PARTS = ("dev", "heldout", "all")
HELD_OUT_MODULUS = 3

T = TypeVar("T", str, dict)


def _name(item: str | dict) -> str:
    image = item["image"] if isinstance(item, dict) else item
    return PurePosixPath(str(image).replace("\\", "/")).name


def is_held_out(item: str | dict) -> bool:
    """True when this receipt (a label dict or an image path) is in the held-out part."""
    digest = hashlib.sha256(_name(item).encode("utf-8")).digest()
    return digest[0] % HELD_OUT_MODULUS == 0


def split(items: Iterable[T]) -> tuple[list[T], list[T]]:
    """(development, held out), each in the input's order."""
    dev: list[T] = []
    held_out: list[T] = []
    for item in items:
        (held_out if is_held_out(item) else dev).append(item)
    return dev, held_out


def select(items: Iterable[T], part: str) -> list[T]:
    """The receipts of one part: ``dev``, ``heldout`` or ``all``."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
    items = list(items)
    if part == "all":
        return items
    dev, held_out = split(items)
    return dev if part == "dev" else held_out

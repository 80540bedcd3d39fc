"""The fixed development / held-out split every benchmark and training script shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loyalchat.tools.receipt_sets import is_held_out, select, split

SHARED = Path(__file__).resolve().parents[2] / "shared" / "receipts" / "labels.json"
NAMES = [f"images/receipt_{i:04d}.jpg" for i in range(3000)]


def test_split_is_fixed_by_file_name() -> None:
    # Pinned: changing the rule would move receipts between the parts and spoil the
    # held-out figures reported so far.
    assert [is_held_out(name) for name in NAMES[:12]] == [
        True, False, False, False, False, True, True, False, False, True, False, False,
    ]  # fmt: skip
    # Only the file name counts, not the folder it is in.
    for name in NAMES[:30]:
        assert is_held_out(name) is is_held_out("/elsewhere/" + name.split("/")[-1])
        assert is_held_out({"image": name}) is is_held_out(name)


def test_parts_are_disjoint_cover_everything_and_hold_out_a_third() -> None:
    dev, held_out = split(NAMES)
    assert set(dev).isdisjoint(held_out)
    assert sorted(dev + held_out) == sorted(NAMES)
    assert 0.30 <= len(held_out) / len(NAMES) <= 0.37
    assert select(NAMES, "dev") == dev and select(NAMES, "heldout") == held_out
    assert select(NAMES, "all") == NAMES


def test_order_and_other_receipts_do_not_move_a_receipt() -> None:
    _, held_out = split(NAMES)
    _, again = split(reversed(NAMES[:500]))
    assert set(again) == set(held_out) & set(NAMES[:500])


def test_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError):
        select(NAMES, "test")


def test_shared_receipts_split() -> None:
    assert SHARED.is_file(), f"{SHARED} not found: ../shared/receipts belongs beside the checkout"
    labels = json.loads(SHARED.read_text(encoding="utf-8"))
    dev, held_out = split(labels)
    assert len(labels) == 300 and (len(dev), len(held_out)) == (187, 113)

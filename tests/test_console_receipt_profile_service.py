"""receipts.samples without the page: what onboarding calls (real OCR on drawn receipts)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loyalchat.context import Actor, NoTenantContext, tenant_context
from loyalchat.media import store
from loyalchat.receipts import samples
from loyalchat.receipts.checks.merchant import names_match
from loyalchat.receipts.settings import get_receipt_settings, save_receipt_settings
from tests.drawn_receipts import as_bytes, draw_receipt
from tests.fixtures import World


def _photo(name: str, total: str) -> bytes:
    lines = (name, "Date 2026-11-22 12:30", "Latte x2   HK$ 60.00", f"TOTAL HK$ {total}", "Thanks")
    return as_bytes(draw_receipt(lines))


async def test_propose_then_save_without_the_page(tenant_a: World, tenant_b: World) -> None:
    photos = [_photo("HARBOUR NOODLE BAR", "88.00"), _photo("HARBOUR NOODLE BAR", "42.50")]
    with tenant_context(tenant_a.id, Actor("system")):
        current = await get_receipt_settings()
        proposed, read = await samples.propose_profile(photos, "", base=current.profile)
        assert any(names_match(n, "HARBOUR NOODLE BAR") for n in proposed.merchant_names)
        assert sorted(s.total for s in read) == ["42.50", "88.00"]
        for sample in read:
            assert await store.exists(sample.key) and await store.exists(sample.ocr_key)
        assert samples.samples_of(proposed) == read
        saved = await save_receipt_settings(replace(current, profile=proposed))
        assert samples.samples_of(saved.profile) == read
    with tenant_context(tenant_b.id, Actor("system")):
        assert not await store.exists(read[0].key)  # kept in A's store only


async def test_bad_photos_are_named_and_nothing_is_kept(tenant_a: World) -> None:
    good = _photo("HARBOUR NOODLE BAR", "88.00")
    with tenant_context(tenant_a.id, Actor("system")):
        with pytest.raises(samples.SamplesRejected) as refused:
            await samples.propose_profile([good, b"not a picture", b"\x89PNG\r\n\x1a\n"])
        assert refused.value.extra["files"] == {1: "not_an_image", 2: "not_an_image"}
        assert not await store.exists(store.key_of(good))
        with pytest.raises(samples.SamplesRejected):
            await samples.propose_profile([good] * 6)
        with pytest.raises(samples.SamplesRejected):
            await samples.propose_profile([])


async def test_propose_needs_a_tenant() -> None:
    with pytest.raises(NoTenantContext):
        await samples.propose_profile([b"x"])


def test_a_posted_sample_is_cut_to_plain_values() -> None:
    key = "a" * 64
    hostile = {
        "key": key,
        "ocr_key": "../../etc/passwd",
        "merchant": "X" * 5000,
        "merchant_confidence": float("nan"),
        "total_confidence": 7,
        "date_confidence": True,
        "qr": ["https://x.test/"] * 50 + [3],
        "warnings": "not a list",
    }
    sample = samples.SampleRead.from_dict(hostile)
    assert sample is not None
    assert sample.ocr_key == "" and len(sample.merchant) == samples.MAX_TEXT
    assert sample.merchant_confidence == 0.0 and sample.total_confidence == 1.0
    assert sample.date_confidence == 0.0
    assert len(sample.qr) == 10 and sample.warnings == ()
    assert samples.SampleRead.from_dict({"key": "../x"}) is None
    assert samples.SampleRead.from_dict("nope") is None  # type: ignore[arg-type]

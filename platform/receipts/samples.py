"""Sample receipts: read a shop's sample photos, propose its receipt profile, try a receipt.

One service for every caller that turns sample photos into a profile: the console's
receipt profile page, onboarding (issue 12) and ``loyalchat receipts profile``. The
console page and onboarding call :func:`propose_profile` (photos in, the proposed profile
and what was read off each photo out; the photos are kept in the tenant's media store);
the CLI, which reads files without a tenant, shares :func:`profile_from_readings`.

What a profile keeps beyond :class:`ReceiptProfile`'s own fields lives in its ``hints``
(stored with it in ``receipt_settings.profile``): the branch names printed on receipts
(:func:`branches_of`) and the samples it was learned from (:func:`samples_of`), so the
console and the platform admin can show them again.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pluggy

from loyalchat.context import require_tenant
from loyalchat.domain import DomainError
from loyalchat.extensions.receipts import (
    ReceiptFacts,
    ReceiptProfile,
    get_receipt_parsers,
)
from loyalchat.media import images, store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts.checks import first_party_checks
from loyalchat.receipts.checks.base import Summary
from loyalchat.receipts.checks.runner import judge
from loyalchat.receipts.checks.screenshot import image_facts
from loyalchat.receipts.profile import build_profile
from loyalchat.receipts.reading import ImageRejected, OcrUnavailable
from loyalchat.receipts.reading.reader import (
    DEFAULT_ENGINE,
    DEFAULT_PARSER,
    ReceiptReader,
    ReceiptReading,
)
from loyalchat.receipts.settings import ReceiptRules
from loyalchat.receipts.shop import shop_profile
from loyalchat.tenants.plugin_access import choose_ocr_engine
from loyalchat.tenants.service import current_tenant

MAX_SAMPLES = 5
MAX_SAMPLE_BYTES = 10 * 1024 * 1024  # a phone photo is 2-6 MB
SHOWN_SIDE = 1600  # the copy kept to show: a receipt stays legible on a desktop screen
HANDWRITTEN = "handwritten"  # a POS "system": receipt books, read by the generic parser
BRANCHES_HINT = "branches"
SAMPLES_HINT = "samples"
MAX_TEXT = 200  # one name, label or QR payload as stored


class SamplesRejected(DomainError):
    """Sample photos that cannot be used; ``extra["files"]`` maps a photo's position
    (0-based) to its :class:`ImageRejected` reason, ``extra["count"]`` the number sent."""

    code = "samples_rejected"
    status = 400


@dataclass(frozen=True)
class SampleRead:
    """What the engine read off one photo, as the console shows it (and keeps it)."""

    key: str  # the photo as kept to show (a web-sized JPEG), a media key
    ocr_key: str = ""  # the prepared upright image the engine read (PNG), a media key
    merchant: str = ""
    merchant_confidence: float = 0.0
    date: str = ""  # ISO
    date_confidence: float = 0.0
    total: str = ""  # a decimal string
    total_confidence: float = 0.0
    total_label: str = ""
    currency: str = ""
    qr: tuple[str, ...] = ()
    engine: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["qr"] = list(self.qr)
        data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SampleRead | None:
        """The sample from a stored (or posted) dict; None when it has no usable key.

        Every value is cut to a short text or a 0-1 number: a posted form carries it.
        """
        if not isinstance(data, Mapping) or not store.is_key(data.get("key")):
            return None
        ocr_key = data.get("ocr_key")

        def text(name: str) -> str:
            value = data.get(name)
            return value[:MAX_TEXT] if isinstance(value, str) else ""

        def confidence(name: str) -> float:
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return 0.0
            return min(1.0, max(0.0, float(value))) if math.isfinite(value) else 0.0

        def texts(name: str) -> tuple[str, ...]:
            value = data.get(name)
            items = value if isinstance(value, list) else []
            return tuple(v[:MAX_TEXT] for v in items[:10] if isinstance(v, str))

        return cls(
            key=data["key"],
            ocr_key=ocr_key if store.is_key(ocr_key) else "",
            merchant=text("merchant"),
            merchant_confidence=confidence("merchant_confidence"),
            date=text("date"),
            date_confidence=confidence("date_confidence"),
            total=text("total"),
            total_confidence=confidence("total_confidence"),
            total_label=text("total_label"),
            currency=text("currency"),
            qr=texts("qr"),
            engine=text("engine"),
            warnings=texts("warnings"),
        )


def sample_read(reading: ReceiptReading, key: str, ocr_key: str = "") -> SampleRead:
    f = reading.fields
    return SampleRead(
        key=key,
        ocr_key=ocr_key,
        merchant=f.merchant_name.value if f.merchant_name else "",
        merchant_confidence=round(f.merchant_name.confidence, 3) if f.merchant_name else 0.0,
        date=f.date.value.isoformat() if f.date else "",
        date_confidence=round(f.date.confidence, 3) if f.date else 0.0,
        total=str(f.total.value) if f.total else "",
        total_confidence=round(f.total.confidence, 3) if f.total else 0.0,
        total_label=f.total_label,
        currency=f.currency.value if f.currency else "",
        qr=tuple(reading.qr),
        engine=reading.ocr.engine,
        warnings=tuple(f.warnings),
    )


def profile_from_readings(
    readings: Sequence[ReceiptReading], pos_system: str = "", *, base: ReceiptProfile | None = None
) -> ReceiptProfile:
    """The proposed profile from photos already read (the CLI and :func:`propose_profile`)."""
    return build_profile(
        [(r.ocr.lines, r.fields, list(r.qr)) for r in readings], pos_system, base=base
    )


def branches_of(profile: ReceiptProfile) -> tuple[str, ...]:
    """The branch names printed on the shop's receipts (kept in the profile's hints)."""
    value = profile.hints.get(BRANCHES_HINT)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def samples_of(profile: ReceiptProfile) -> list[SampleRead]:
    """The samples the profile was learned from, as kept in its hints."""
    value = profile.hints.get(SAMPLES_HINT)
    found = [SampleRead.from_dict(v) for v in value] if isinstance(value, list) else []
    return [s for s in found if s is not None]


def with_extras(
    profile: ReceiptProfile, *, branches: Sequence[str], samples: Sequence[SampleRead]
) -> ReceiptProfile:
    """``profile`` with its branch names and samples in its hints."""
    hints = dict(profile.hints)
    hints[BRANCHES_HINT] = list(branches)
    hints[SAMPLES_HINT] = [s.to_dict() for s in samples[:MAX_SAMPLES]]
    return replace(profile, hints=hints)


def pos_systems(pm: pluggy.PluginManager | None = None) -> dict[str, str]:
    """POS system -> label for the form: the generic parser, the installed POS parsers,
    and receipts written by hand."""
    parsers = get_receipt_parsers(pm or current_plugin_manager())
    found = {"": "Other / generic"}
    found.update({name: p.label for name, p in parsers.items() if name != DEFAULT_PARSER})
    found[HANDWRITTEN] = "Handwritten receipt book"
    return found


async def _reader(
    profile: ReceiptProfile, pm: pluggy.PluginManager, parser: str = DEFAULT_PARSER
) -> ReceiptReader:
    engine = await choose_ocr_engine(DEFAULT_ENGINE, pm)  # PluginDisabled when none is on
    return ReceiptReader(engine.name, parser, profile=profile, pm=pm)


def _checked(photos: Sequence[bytes]) -> list[bytes]:
    """The web-sized copy of each photo, or :class:`SamplesRejected` naming every bad one."""
    if not 1 <= len(photos) <= MAX_SAMPLES:
        raise SamplesRejected(
            f"send 1 to {MAX_SAMPLES} photos", files={}, count=len(photos), limit=MAX_SAMPLES
        )
    shown: list[bytes] = []
    bad: dict[int, str] = {}
    for n, data in enumerate(photos):
        try:
            shown.append(images.web_image(data, max_bytes=MAX_SAMPLE_BYTES, max_side=SHOWN_SIDE))
        except images.InvalidImage as exc:
            bad[n] = str(exc.extra.get("reason", "not_an_image"))
    if bad:
        raise SamplesRejected("some photos cannot be read", files=bad, count=len(photos))
    return shown


async def propose_profile(
    photos: Sequence[bytes],
    pos_system: str = "",
    *,
    base: ReceiptProfile | None = None,
    pm: pluggy.PluginManager | None = None,
) -> tuple[ReceiptProfile, list[SampleRead]]:
    """Read 1-5 sample photos with the tenant's OCR engine and propose its profile.

    Every photo is checked before any is read or kept (:class:`SamplesRejected` names
    the bad ones; nothing is stored then). Each photo (web-sized) and the image the engine
    read are kept in the tenant's media store; the returned profile carries the samples
    and ``base``'s branch names in its hints. ``base`` gives the time zone and default
    currency (usually the current profile). Nothing is saved: the caller shows the
    proposal and saves it with ``save_receipt_settings`` once the merchant confirms.
    """
    require_tenant()
    pm = pm or current_plugin_manager()
    base = base or ReceiptProfile()
    shown = await asyncio.to_thread(_checked, photos)
    # Read as the CLI does, unbiased by the current profile's names, labels and ranges.
    reader = await _reader(ReceiptProfile(currency=base.currency, timezone=base.timezone), pm)
    readings: list[ReceiptReading] = []
    samples: list[SampleRead] = []
    for n, (data, copy) in enumerate(zip(photos, shown, strict=True)):
        try:
            reading = await reader.read(data)
        except ImageRejected as exc:
            raise SamplesRejected(str(exc), files={n: exc.reason}, count=len(photos)) from exc
        except OcrUnavailable as exc:
            raise DomainError(str(exc), code="ocr_unavailable") from exc
        key = await store.save(copy, kind="receipt_sample")
        ocr_key = await store.save(reading.ocr.image.png, kind="receipt_sample_ocr")
        readings.append(reading)
        samples.append(sample_read(reading, key, ocr_key))
    proposed = profile_from_readings(readings, pos_system, base=base)
    return with_extras(proposed, branches=branches_of(base), samples=samples), samples


@dataclass(frozen=True)
class TriedReceipt:
    """A receipt tried against a profile: what was read and what the checks say."""

    read: SampleRead
    summary: Summary


async def try_receipt(
    photo: bytes, rules: ReceiptRules, *, pm: pluggy.PluginManager | None = None
) -> TriedReceipt:
    """What the pipeline's own checks (merchant, date, amount, screenshot; none that
    reads the database) would say of ``photo`` under ``rules``, saved or not.

    Nothing is stored. :class:`SamplesRejected` for a photo that cannot be read.
    """
    pm = pm or current_plugin_manager()
    await asyncio.to_thread(_checked, [photo])
    parsers = get_receipt_parsers(pm)
    pos = rules.profile.pos_system
    reader = await _reader(rules.profile, pm, pos if pos in parsers else DEFAULT_PARSER)
    try:
        reading = await reader.read(photo)
    except ImageRejected as exc:
        raise SamplesRejected(str(exc), files={0: exc.reason}, count=1) from exc
    except OcrUnavailable as exc:
        raise DomainError(str(exc), code="ocr_unavailable") from exc
    facts = ReceiptFacts(
        fields=reading.fields,
        qr_payloads=reading.qr,
        image=await asyncio.to_thread(image_facts, photo),
        received_at=datetime.now(UTC),
        lines=tuple(line.text for line in reading.ocr.lines),
    )
    # The shop as the pipeline sees it (its names in both scripts, the branch names).
    shop = shop_profile(await current_tenant(), rules)
    summary = await judge(facts, shop, first_party_checks())
    return TriedReceipt(read=sample_read(reading, ""), summary=summary)


__all__ = [
    "HANDWRITTEN",
    "MAX_SAMPLES",
    "SampleRead",
    "SamplesRejected",
    "TriedReceipt",
    "branches_of",
    "pos_systems",
    "profile_from_readings",
    "propose_profile",
    "samples_of",
    "try_receipt",
    "with_extras",
]

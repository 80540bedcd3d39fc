"""Receipt parsers (OCR lines -> fields) and receipt checks (fields -> pass/warn/fail)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import pluggy

from loyalchat.extensions.base import Registry, collect
from loyalchat.extensions.ocr import OcrLine

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Found(Generic[V]):
    """A value read off a receipt, with how sure the parser is (0.0 - 1.0)."""

    value: V
    confidence: float


@dataclass(frozen=True, slots=True)
class ReceiptFields:
    merchant_name: Found[str] | None = None
    issued_at: Found[datetime] | None = None  # local time of the shop, naive if unknown
    total: Found[Decimal] | None = None  # money is Decimal, never float
    currency: Found[str] | None = None
    receipt_number: Found[str] | None = None
    # Added for the generic parser; every one is optional so POS plugins may ignore them.
    date: Found[dt.date] | None = None  # the printed date (``issued_at`` carries date + time)
    time: Found[dt.time] | None = None
    payment_method: Found[str] | None = None  # "cash", "octopus", "alipay", "visa"...
    merchant_candidates: tuple[str, ...] = ()  # header lines that could be the name
    qr_payloads: tuple[str, ...] = ()  # decoded QR codes on the receipt image
    total_label: str = ""  # the printed label the total was read from ("NETT TOTAL", "合计")
    warnings: tuple[str, ...] = ()  # why a confidence was lowered, for staff review

    def confidences(self) -> dict[str, float]:
        """0-1 confidence per field name; 0.0 for a field that was not found."""
        names = (
            "merchant_name",
            "date",
            "time",
            "total",
            "currency",
            "receipt_number",
            "payment_method",
        )
        return {
            name: (found.confidence if (found := getattr(self, name)) else 0.0) for name in names
        }


@dataclass(frozen=True, slots=True)
class ReceiptProfile:
    """What the tenant told us about its receipts (names on them, POS system)."""

    merchant_names: tuple[str, ...] = ()
    pos_system: str = ""  # a parser name, or "" for the generic parser
    currency: str = "HKD"
    timezone: str = "Asia/Hong_Kong"
    hints: Mapping[str, Any] = field(default_factory=dict)
    # Learned from sample receipts (see ``loyalchat.receipts.profile.build_profile``).
    total_labels: tuple[str, ...] = ()  # labels the total is printed next to, folded
    date_order: str = ""  # "dmy", "mdy" or "ymd"; "" means the usual order for ``timezone``
    amount_range: tuple[Decimal, Decimal] | None = None  # typical totals; outside -> review
    qr_prefix: str = ""  # start of the QR payload the tenant's POS prints, if any


@runtime_checkable
class ReceiptParser(Protocol):
    name: str  # the POS system or layout it reads: "generic", "ichef", "eats365"...
    label: str

    async def parse(self, lines: Sequence[OcrLine], profile: ReceiptProfile) -> ReceiptFields:
        """The fields it can read; a field it cannot find stays None (never a guess)."""
        ...


class Outcome(enum.StrEnum):
    passed = "pass"
    warn = "warn"  # send to staff review
    fail = "fail"  # reject with the reason code


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's answer; ``reason`` and ``params`` make the member's message."""

    outcome: Outcome
    reason: str = ""  # a stable code: other_shop, too_old, future_date, screenshot...
    detail: str = ""  # for staff, never shown to members
    params: Mapping[str, Any] = field(default_factory=dict)  # for the member's message
    check: str = ""  # the check's name, filled in by the runner

    @classmethod
    def ok(cls, detail: str = "") -> CheckResult:
        return cls(Outcome.passed, "", detail)

    @classmethod
    def warning(cls, reason: str, detail: str = "", **params: Any) -> CheckResult:
        return cls(Outcome.warn, reason, detail, params)

    @classmethod
    def failure(cls, reason: str, detail: str = "", **params: Any) -> CheckResult:
        return cls(Outcome.fail, reason, detail, params)


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What the upload's file says about itself (not its pixels): for the screenshot check.

    Built by ``loyalchat.receipts.checks.screenshot.image_facts`` from the stored bytes.
    """

    sha256: str = ""
    phash: str = ""  # perceptual hash, hex ("" until the duplicate check exists)
    format: str = ""  # "JPEG", "PNG", "WEBP"
    size: tuple[int, int] = (0, 0)  # (width, height) as uploaded, before EXIF rotation
    software: str = ""  # EXIF Software, PNG text chunks (Software, XMP): who wrote the file
    camera: str = ""  # EXIF Make and Model; "" when the file names no camera


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What was read off one receipt photo: the reading engine's output, plus the file.

    The pipeline builds it from ``ReceiptReading`` (``fields``, ``qr``) and the stored
    image; the ids are set once the receipt has a row (a check may look up others).
    """

    fields: ReceiptFields
    qr_payloads: tuple[str, ...] = ()  # decoded QR codes (``ReceiptReading.qr``)
    image: ImageFacts = field(default_factory=ImageFacts)
    received_at: datetime | None = None  # aware; when the photo reached us
    receipt_id: int | None = None
    member_id: int | None = None
    lines: tuple[str, ...] = ()  # every OCR line's text, top to bottom

    @property
    def merchant_lines(self) -> tuple[str, ...]:
        """The name the parser chose, then the other header lines that could be the name."""
        name = self.fields.merchant_name
        first = (name.value,) if name and name.value else ()
        return first + tuple(c for c in self.fields.merchant_candidates if c not in first)

    @property
    def all_qr_payloads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.qr_payloads, *self.fields.qr_payloads)))


@dataclass(frozen=True, slots=True)
class ShopProfile:
    """The shop a receipt is judged against: its receipt profile plus the tenant's rules.

    ``receipts`` is the profile learned from samples (names as printed, amount range, QR
    prefix, date order, time zone); the rest comes from the tenant and its settings.
    """

    tenant_id: int
    receipts: ReceiptProfile = field(default_factory=ReceiptProfile)
    shop_names: tuple[str, ...] = ()  # the tenant's own names, every language
    branches: tuple[str, ...] = ()  # branch names as printed on receipts
    join_links: tuple[str, ...] = ()  # the shop's join QR targets (wa.me, web chat links)
    window_days: int = 7  # a receipt older than this is refused
    review_limit: Decimal | None = None  # a total above this goes to review
    config: Mapping[str, Any] = field(default_factory=dict)  # per-check settings, by name

    @property
    def timezone(self) -> str:
        return self.receipts.timezone

    @property
    def names(self) -> tuple[str, ...]:
        """Every name that may be printed on this shop's receipts."""
        every = (*self.receipts.merchant_names, *self.shop_names, *self.branches)
        return tuple(dict.fromkeys(n for n in every if n.strip()))


@runtime_checkable
class ReceiptCheck(Protocol):
    name: str  # "merchant", "date", "amount", "screenshot", "duplicate"...
    label: str
    order: int  # checks run by ascending order; ties keep registration order

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        """Judge one receipt. Runs with the receipt's tenant in context, so it may read
        the database; it must not write (the host decides and records the outcome)."""
        ...


def get_receipt_parsers(pm: pluggy.PluginManager) -> Registry[ReceiptParser]:
    """Every registered receipt parser, by ``name``."""
    return collect(pm, "register_receipt_parsers", ReceiptParser, what="receipt parser")


def get_receipt_checks(pm: pluggy.PluginManager) -> Registry[ReceiptCheck]:
    """Every registered receipt check, by ``name``, in the order they run."""
    return collect(pm, "register_receipt_checks", ReceiptCheck, what="receipt check")

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
    outcome: Outcome
    reason: str = ""  # a stable code: not_this_shop, too_old, duplicate, unreadable...
    detail: str = ""  # for staff, never shown to members

    @classmethod
    def ok(cls) -> CheckResult:
        return cls(Outcome.passed)

    @classmethod
    def warning(cls, reason: str, detail: str = "") -> CheckResult:
        return cls(Outcome.warn, reason, detail)

    @classmethod
    def failure(cls, reason: str, detail: str = "") -> CheckResult:
        return cls(Outcome.fail, reason, detail)


@dataclass(frozen=True, slots=True)
class ReceiptContext:
    """Everything a check may look at; it runs with the receipt's tenant in context."""

    tenant_id: int
    receipt_id: int
    member_id: int
    fields: ReceiptFields
    profile: ReceiptProfile
    image_sha256: str
    image_phash: str
    received_at: datetime
    config: Mapping[str, Any] = field(default_factory=dict)  # the check plugin's settings


@runtime_checkable
class ReceiptCheck(Protocol):
    name: str  # "merchant_match", "date_window", "duplicate"...
    label: str

    async def check(self, receipt: ReceiptContext) -> CheckResult:
        """Judge one receipt. Must not write; the host decides and records the outcome."""
        ...


def get_receipt_parsers(pm: pluggy.PluginManager) -> Registry[ReceiptParser]:
    """Every registered receipt parser, by ``name``."""
    return collect(pm, "register_receipt_parsers", ReceiptParser, what="receipt parser")


def get_receipt_checks(pm: pluggy.PluginManager) -> Registry[ReceiptCheck]:
    """Every registered receipt check, by ``name``, in the order they run."""
    return collect(pm, "register_receipt_checks", ReceiptCheck, what="receipt check")

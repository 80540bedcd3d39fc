"""Bytes in, structured receipt out: OCR engine, then parser, plus QR codes.

The one code path for the console, the chat flow, ``loyalchat receipts read`` and the
benchmark. No web or database code: a later step verifies and credits what this reads.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pluggy

from loyalchat.extensions.ocr import OcrEngine, get_ocr_engines
from loyalchat.extensions.receipts import (
    ReceiptFields,
    ReceiptParser,
    ReceiptProfile,
    get_receipt_parsers,
)
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts.reading.ocr import OcrResult, read_lines
from loyalchat.receipts.reading.parse.generic import parse_lines
from loyalchat.receipts.reading.parse.qr import qr_payloads_of_pixels

DEFAULT_ENGINE = "rapidocr"
DEFAULT_PARSER = "generic"


class UnknownEngine(LookupError):
    """No installed plugin provides the named OCR engine or parser."""


@dataclass(frozen=True)
class ReceiptReading:
    """What one receipt photo says, with timings; ``to_json`` is the CLI's line format."""

    fields: ReceiptFields
    ocr: OcrResult
    qr: tuple[str, ...]
    ocr_ms: float
    extract_ms: float
    parser: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def elapsed_ms(self) -> float:
        return self.ocr_ms + self.extract_ms

    def to_json(self, image: str) -> dict[str, Any]:
        f = self.fields
        confidence = f.confidences()
        return {
            "image": image,
            "merchant": f.merchant_name.value if f.merchant_name else None,
            "merchant_candidates": list(f.merchant_candidates),
            "date": f.date.value.isoformat() if f.date else None,
            "time": f.time.value.strftime("%H:%M") if f.time else None,
            "total": str(f.total.value) if f.total else None,
            "currency": f.currency.value if f.currency else None,
            "receipt_no": f.receipt_number.value if f.receipt_number else None,
            "payment_method": f.payment_method.value if f.payment_method else None,
            "qr": list(self.qr),
            "total_label": f.total_label or None,
            "warnings": list(f.warnings),
            "confidence": {
                "merchant": round(confidence["merchant_name"], 3),
                "date": round(confidence["date"], 3),
                "time": round(confidence["time"], 3),
                "total": round(confidence["total"], 3),
                "currency": round(confidence["currency"], 3),
                "receipt_no": round(confidence["receipt_number"], 3),
                "payment_method": round(confidence["payment_method"], 3),
            },
            "engine": self.ocr.engine,
            "parser": self.parser,
            "rotation": self.ocr.rotation,
            "ocr_ms": round(self.ocr_ms, 1),
            "extract_ms": round(self.extract_ms, 1),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


class ReceiptReader:
    """Reads receipts with one OCR engine and one parser, loaded once and reused.

    The engine is named by the caller. For a tenant's receipt, name the one
    ``loyalchat.tenants.plugin_access.choose_ocr_engine()`` picks: an engine the tenant
    does not use is never chosen.
    """

    def __init__(
        self,
        engine: str = DEFAULT_ENGINE,
        parser: str = DEFAULT_PARSER,
        *,
        profile: ReceiptProfile | None = None,
        pm: pluggy.PluginManager | None = None,
        now: datetime | None = None,
    ) -> None:
        pm = pm or current_plugin_manager()
        engines = get_ocr_engines(pm)
        parsers = get_receipt_parsers(pm)
        if engine not in engines:
            raise UnknownEngine(f"no OCR engine {engine!r}; installed: {', '.join(engines) or '-'}")
        if parser not in parsers:
            raise UnknownEngine(f"no receipt parser {parser!r}; installed: {', '.join(parsers)}")
        self.engine: OcrEngine = engines[engine]
        self.parser: ReceiptParser = parsers[parser]
        self.profile = profile or ReceiptProfile()
        self.now = now  # fixed "today" for reproducible runs (benchmarks, old photos)

    async def read(self, image: bytes) -> ReceiptReading:
        """Read one photo. Raises ``ImageRejected`` for a file that is not a usable image."""
        ocr = await read_lines(image, self.engine)
        started = time.perf_counter()
        if self.now is not None and self.parser.name == DEFAULT_PARSER:
            fields = parse_lines(ocr.lines, self.profile, now=self.now)
        else:
            fields = await self.parser.parse(ocr.lines, self.profile)
        qr = tuple(await asyncio.to_thread(qr_payloads_of_pixels, ocr.image.array))
        extract_ms = (time.perf_counter() - started) * 1000
        return ReceiptReading(
            fields=_with_qr(fields, qr),
            ocr=ocr,
            qr=qr,
            ocr_ms=ocr.elapsed_ms,
            extract_ms=extract_ms,
            parser=self.parser.name,
        )


def _with_qr(fields: ReceiptFields, qr: tuple[str, ...]) -> ReceiptFields:
    return replace(fields, qr_payloads=qr) if qr else fields

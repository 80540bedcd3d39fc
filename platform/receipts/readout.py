"""Read a stored receipt photo with the tenant's engine, and write down what was read.

:func:`read_photo` picks the tenant's OCR engine and parser (never one it turned off) and
reuses one :class:`ReceiptReader` per (engine, parser, profile) in the process. The image
is decoded and shrunk in a thread: the event loop of a worker carries other receipts'
database work meanwhile, and the engine itself runs in its own thread (RapidOCR's ONNX
Runtime uses every core for one read, so receipts take turns at full speed).

:func:`fields_json` is the ``Receipt.fields`` document the review page draws: each field
with its confidence and the box of the OCR line it came from, as fractions of the upright
image it keeps in the tenant's media store (``ocr_media_key``).
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pluggy

from loyalchat.extensions.ocr import OcrLine, get_ocr_engines
from loyalchat.extensions.receipts import Found, ReceiptProfile, get_receipt_parsers
from loyalchat.media import store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts.checks.merchant import names_match
from loyalchat.receipts.profile import profile_to_dict
from loyalchat.receipts.reading.image import encode_jpeg, prepare
from loyalchat.receipts.reading.parse.amounts import find_amounts
from loyalchat.receipts.reading.parse.dates import default_order, find_dates
from loyalchat.receipts.reading.reader import (
    DEFAULT_ENGINE,
    DEFAULT_PARSER,
    ReceiptReader,
    ReceiptReading,
)
from loyalchat.tenants import plugin_access

MAX_READERS = 64
MAX_LINES = 200  # OCR lines kept for the review page
_readers: OrderedDict[tuple[str, str, str], ReceiptReader] = OrderedDict()

Box = list[float]


async def reader_for(profile: ReceiptProfile, pm: pluggy.PluginManager) -> ReceiptReader:
    """The reader of the current tenant: its engine (``PluginDisabled`` when it uses none),
    the parser of its POS system when it may use that one, else the generic parser."""
    preferred = str(profile.hints.get("ocr_engine", "") or DEFAULT_ENGINE)
    engine = await plugin_access.choose_ocr_engine(preferred, pm)
    parsers = get_receipt_parsers(pm)
    enabled = await plugin_access.enabled_plugins(pm)
    usable = [name for name in parsers if parsers.owner(name) in enabled]
    wanted = profile.pos_system or DEFAULT_PARSER
    parser = wanted if wanted in usable else DEFAULT_PARSER
    if parser not in usable and usable:
        parser = usable[0]
    key = (engine.name, parser, json.dumps(profile_to_dict(profile), sort_keys=True, default=str))
    reader = _readers.get(key)
    if reader is None:
        reader = ReceiptReader(engine.name, parser, profile=profile, pm=pm)
        _readers[key] = reader
        while len(_readers) > MAX_READERS:
            _readers.popitem(last=False)
    else:
        _readers.move_to_end(key)
    return reader


async def read_photo(
    data: bytes, profile: ReceiptProfile, pm: pluggy.PluginManager
) -> ReceiptReading:
    """The reading of one photo. Raises ``ImageRejected``, ``OcrUnavailable``,
    ``PluginDisabled`` or ``UnknownEngine`` when it cannot be read."""
    reader = await reader_for(profile, pm)
    prepared = await asyncio.to_thread(prepare, data)
    return await reader.read(prepared)  # type: ignore[arg-type]  # read_lines takes either


def warm_up(pm: pluggy.PluginManager | None = None) -> None:
    """Load the default OCR engine's models now, where it can (an engine with a
    ``warm_up()`` method), so the first photo after a start is read at full speed."""
    engine = get_ocr_engines(pm or current_plugin_manager()).get(DEFAULT_ENGINE)
    prepare = getattr(engine, "warm_up", None)
    if callable(prepare):
        prepare()


def _fraction_box(line: OcrLine, size: tuple[int, int]) -> Box:
    width, height = max(1, size[0]), max(1, size[1])
    xs = [p[0] for p in line.box]
    ys = [p[1] for p in line.box]

    def clip(value: float) -> float:
        return round(min(1.0, max(0.0, value)), 4)

    return [
        clip(min(xs) / width),
        clip(min(ys) / height),
        clip(max(xs) / width),
        clip(max(ys) / height),
    ]


def _find(lines: Sequence[OcrLine], matches: Callable[[str], bool], last: bool = False):
    found = [line for line in lines if matches(line.text)]
    if not found:
        return None
    return found[-1] if last else found[0]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _line_of(name: str, value: Any, lines: Sequence[OcrLine], profile: ReceiptProfile, label: str):
    """The OCR line ``value`` of field ``name`` was most likely read from."""
    if name == "merchant":
        return _find(lines, lambda text: text.strip() == value) or _find(
            lines, lambda text: names_match(text, value)
        )
    if name == "total":

        def has_total(text: str) -> bool:
            return any(a.value == value for a in find_amounts(text))

        if label:
            on_label = _find(lines, lambda text: label in text and has_total(text), last=True)
            if on_label is not None:
                return on_label
        return _find(lines, has_total, last=True)
    if name == "date":
        order = profile.date_order or default_order(profile.timezone)
        today = date.today()
        return _find(
            lines, lambda text: any(h.value == value for h in find_dates(text, today, order))
        )
    wanted = str(value).strip()
    if not wanted:
        return None
    return _find(lines, lambda text: wanted in text) or (
        _find(lines, lambda text: _digits(wanted) and _digits(wanted) in _digits(text))
        if _digits(wanted)
        else None
    )


def _shown(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # a time
        return value.isoformat(timespec="minutes")
    return value


async def fields_json(reading: ReceiptReading, profile: ReceiptProfile) -> dict[str, Any]:
    """``Receipt.fields`` (see the module docstring); saves the upright image it refers to."""
    ocr = reading.ocr
    upright = await asyncio.to_thread(lambda: encode_jpeg(ocr.image.rotated(ocr.rotation)))
    ocr_key = await store.save(upright, kind="receipt_ocr")
    lines = list(ocr.lines)
    f = reading.fields
    named: dict[str, Found[Any] | None] = {
        "merchant": f.merchant_name,
        "date": f.date,
        "total": f.total,
        "time": f.time,
        "currency": f.currency,
        "receipt_no": f.receipt_number,
        "payment_method": f.payment_method,
    }
    out: dict[str, Any] = {}
    for name, found in named.items():
        if found is None:
            out[name] = None
            continue
        line = _line_of(name, found.value, lines, profile, f.total_label)
        out[name] = {
            "value": _shown(found.value),
            "confidence": round(float(found.confidence), 3),
            "box": _fraction_box(line, ocr.size) if line is not None else None,
        }
    out.update(
        {
            "total_label": f.total_label,
            "qr": list(reading.qr),
            "warnings": list(f.warnings),
            "engine": ocr.engine,
            "parser": reading.parser,
            "rotation": ocr.rotation,
            "ocr_media_key": ocr_key,
            "lines": [
                {
                    "text": line.text,
                    "confidence": round(float(line.confidence), 3),
                    "box": _fraction_box(line, ocr.size),
                }
                for line in lines[:MAX_LINES]
            ],
        }
    )
    return out

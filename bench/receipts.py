"""Receipt reading benchmark: accuracy, coverage and speed against stock RapidOCR.

    python bench/receipts.py ../shared/receipts                  # dev and held-out tables
    python bench/receipts.py ../shared/receipts --part heldout   # one part only
    python bench/receipts.py ../shared/receipts --engine rapidocr --engine tesseract
    python -m loyalchat receipts synth /tmp/synth --count 200 --style hk --style cn
    python bench/receipts.py /tmp/synth --currency HKD --today 2026-11-23
    python -m loyalchat receipts synth /tmp/unseen --vocab holdout --seed 20250611 \\
        --count 60 --today 2025-06-11
    python bench/receipts.py /tmp/unseen --currency HKD --no-stock

DIR holds ``labels.json`` (a list of {image, company, date, total}) and the images.

Parts: ``../shared/receipts`` is split for good by ``loyalchat.tools.receipt_sets`` (the
SHA-256 of each file name; about a third held out). Tune on the development part only;
report the held-out one. On that folder both parts are reported by default; any other
folder is read whole (``--part all``) unless ``--part`` says otherwise. ``--limit N``
reads the first N receipts of each part.

For each engine and part it prints exact-match accuracy of total, date and merchant
(fuzzy, normalised), the share of receipts whose total came back at confidence >= 0.8
but wrong, coverage (the share of receipts whose total is returned at confidence >= 0.8:
credited without asking anyone) and the precision of those totals, and latency p50/p90
for OCR and extraction separately.

Speed against the OCR library alone (``--stock``, on by default when the ``rapidocr``
package is installed): each photo is also read by stock ``RapidOCR()`` (the rapidocr
package with its default settings on ONNX Runtime; only its log level is lowered), in
the same run, alternating which of the two goes first; both get the JPEG bytes. It
prints p50/p90 of stock and of our full read (decoding, OCR, extraction, QR), the ratio
ours/stock at p50 and p90, and the ratio of the summed times. One warm-up read of each,
not counted, loads the models first. ``--no-stock`` skips it (the run is about twice as
fast).

Dates are judged as of the last label date of the folder (``--today`` overrides), as a
member sending the receipt that day. Misses are written as CSV under ``--misses``.
Reads through the same ``ReceiptReader`` as ``loyalchat receipts read``. ``--ocr-cache DIR``
takes each photo's OCR lines from ``loyalchat.tools.ocr_cache`` (reading it once if missing)
and reruns only the extraction: fast for parser work, without speed figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from rapidfuzz import fuzz

from loyalchat.extensions.receipts import ReceiptFields, ReceiptProfile
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.receipts.reading import ImageRejected
from loyalchat.receipts.reading.parse.generic import parse_lines
from loyalchat.receipts.reading.parse.text import name_key
from loyalchat.receipts.reading.reader import ReceiptReader
from loyalchat.tools.ocr_cache import OcrCache
from loyalchat.tools.receipt_sets import is_held_out, split

HIGH_CONFIDENCE = 0.8
ROOT = Path(__file__).resolve().parents[1]
SHARED_RECEIPTS = ROOT.parent / "shared" / "receipts"
PART_TITLES = {"dev": "development", "heldout": "held-out", "all": "all"}


@dataclass
class Tally:
    engine: str
    part: str = "all"
    n: int = 0
    errors: int = 0
    total_ok: int = 0
    date_ok: int = 0
    merchant_ok: int = 0
    confident_totals: int = 0
    confident_wrong_total: int = 0
    confident_wrong_date: int = 0
    confident_wrong_merchant: int = 0
    # Fields only some label files carry (the synthetic sets): (right, labelled).
    time_ok: int = 0
    time_n: int = 0
    number_ok: int = 0
    number_n: int = 0
    ocr_ms: list[float] = field(default_factory=list)
    extract_ms: list[float] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)  # our whole read, wall clock
    stock_ms: list[float] = field(default_factory=list)  # stock RapidOCR(), same photos
    misses: list[dict] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.confident_totals / self.n if self.n else float("nan")

    @property
    def precision(self) -> float:
        if not self.confident_totals:
            return float("nan")
        return 1 - self.confident_wrong_total / self.confident_totals


def same_total(read: str | None, label: str) -> bool:
    try:
        return read is not None and Decimal(read) == Decimal(label)
    except InvalidOperation:
        return False


def same_merchant(read: str | None, label: dict) -> bool:
    """The read name matches the label's company, or any way the name is printed on it."""
    if not read:
        return False
    a = name_key(read)
    for name in [label["company"], *label.get("merchant_aliases", [])]:
        b = name_key(name)
        if a and b and (a in b or b in a or fuzz.ratio(a, b) >= 80):
            return True
    return False


def _ms(values: list[float], q: float) -> str:
    """A percentile for the table; "-" where nothing was timed (OCR from the cache)."""
    return f"{percentile(values, q):>6.0f}ms" if values else f"{'-':>8}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


class StockRapidOcr:
    """The rapidocr package as installed, ``RapidOCR()`` with its default settings."""

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self.engine = RapidOCR(params={"Global.log_level": "warning"})

    def read_ms(self, image: bytes) -> float:
        started = time.perf_counter()
        self.engine(image)
        return (time.perf_counter() - started) * 1000


def stock_available() -> bool:
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


async def run_engine(
    engine: str,
    folder: Path,
    batches: dict[str, list[dict]],
    profile,
    now,
    stock: StockRapidOcr | None = None,
    cache: OcrCache | None = None,
) -> dict[str, Tally]:
    """Read every receipt of every part; one ``Tally`` per part.

    With ``cache`` the OCR lines come from (or go to) the OCR cache and only the extraction
    is timed and rerun: for comparing parser changes, not for speed figures.
    """
    reader = ReceiptReader(engine, profile=profile, pm=build_plugin_manager(), now=now)
    work = [(part, label) for part, labels in batches.items() for label in labels]
    tallies = {part: Tally(engine, part) for part in batches}
    if work and cache is None:  # load the models of both before the clock starts
        first = (folder / work[0][1]["image"]).read_bytes()
        try:
            await reader.read(first)
        except ImageRejected:
            pass
        if stock is not None:
            stock.read_ms(first)
    with click.progressbar(work, label=f"{engine:>10}", file=sys.stderr, show_pos=True) as bar:
        for index, (part, label) in enumerate(bar):
            tally = tallies[part]
            tally.n += 1
            stock_ms = None
            if cache is not None:
                lines = await cache.lines(folder / label["image"])
                started = time.perf_counter()
                fields = parse_lines(lines, profile, now)
                tally.extract_ms.append((time.perf_counter() - started) * 1000)
                row = fields_row(fields)
                judge(tally, label, part, row)
                continue
            try:
                image = (folder / label["image"]).read_bytes()
                if stock is not None and index % 2:
                    stock_ms = stock.read_ms(image)
                started = time.perf_counter()
                reading = await reader.read(image)
                full_ms = (time.perf_counter() - started) * 1000
                if stock is not None and not index % 2:
                    stock_ms = stock.read_ms(image)
            except (ImageRejected, OSError) as exc:
                tally.errors += 1
                tally.misses.append({"image": label["image"], "part": part, "error": str(exc)})
                continue
            row = reading.to_json(label["image"])
            tally.ocr_ms.append(reading.ocr_ms)
            tally.extract_ms.append(reading.extract_ms)
            tally.full_ms.append(full_ms)
            if stock_ms is not None:
                tally.stock_ms.append(stock_ms)
            judge(tally, label, part, row)
    return tallies


def fields_row(f: ReceiptFields) -> dict:
    """The fields ``judge`` compares, as ``ReceiptReading.to_json`` gives them."""
    confidence = f.confidences()
    return {
        "merchant": f.merchant_name.value if f.merchant_name else None,
        "date": f.date.value.isoformat() if f.date else None,
        "total": str(f.total.value) if f.total else None,
        "time": f.time.value.strftime("%H:%M") if f.time else None,
        "receipt_no": f.receipt_number.value if f.receipt_number else None,
        "warnings": list(f.warnings),
        "confidence": {
            "merchant": round(confidence["merchant_name"], 3),
            "date": round(confidence["date"], 3),
            "total": round(confidence["total"], 3),
        },
    }


def judge(tally: Tally, label: dict, part: str, row: dict) -> None:
    """Count one receipt's fields as right or wrong, confident or not."""
    conf = row["confidence"]
    ok = {
        "total": same_total(row["total"], label["total"]),
        "date": row["date"] == label["date"],
        "merchant": same_merchant(row["merchant"], label),
    }
    tally.total_ok += ok["total"]
    tally.date_ok += ok["date"]
    tally.merchant_ok += ok["merchant"]
    tally.confident_totals += conf["total"] >= HIGH_CONFIDENCE
    tally.confident_wrong_total += conf["total"] >= HIGH_CONFIDENCE and not ok["total"]
    tally.confident_wrong_date += conf["date"] >= HIGH_CONFIDENCE and not ok["date"]
    tally.confident_wrong_merchant += conf["merchant"] >= HIGH_CONFIDENCE and not ok["merchant"]
    if label.get("time"):
        tally.time_n += 1
        tally.time_ok += row.get("time") == label["time"]
    if label.get("receipt_no"):
        tally.number_n += 1
        tally.number_ok += row.get("receipt_no") == label["receipt_no"]
    if not all(ok.values()):
        tally.misses.append(
            {
                "image": label["image"],
                "part": part,
                "wrong": ",".join(k for k, v in ok.items() if not v),
                "total_label": label["total"],
                "total_read": row["total"],
                "total_conf": conf["total"],
                "date_label": label["date"],
                "date_read": row["date"],
                "merchant_label": label["company"],
                "merchant_read": row["merchant"],
                "warnings": " ".join(row["warnings"]),
            }
        )


def _pct(part: int | float, whole: int | float) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   - "


def _share(value: float) -> str:
    return "   - " if value != value else f"{100 * value:5.1f}%"  # NaN: nothing to share


def report(tallies: list[Tally]) -> str:
    head = (
        f"{'engine':<10} {'part':<11} {'n':>4} {'total':>7} {'date':>7} {'merchant':>8} "
        f"{'conf.wrong total':>16} {'coverage':>8} {'precision':>9} "
        f"{'ocr p50':>8} {'ocr p90':>8} {'extr p50':>8} {'extr p90':>8}"
    )
    lines = [head, "-" * len(head)]
    for t in tallies:
        lines.append(
            f"{t.engine:<10} {PART_TITLES[t.part]:<11} {t.n:>4} {_pct(t.total_ok, t.n):>7} "
            f"{_pct(t.date_ok, t.n):>7} {_pct(t.merchant_ok, t.n):>8} "
            f"{_pct(t.confident_wrong_total, t.n):>16} {_share(t.coverage):>8} "
            f"{_share(t.precision):>9} "
            f"{_ms(t.ocr_ms, 50)} {_ms(t.ocr_ms, 90)} {_ms(t.extract_ms, 50)} {_ms(t.extract_ms, 90)}"
        )
    lines.append("")
    for t in tallies:
        lines.append(
            f"{t.engine} ({PART_TITLES[t.part]}): {t.confident_totals}/{t.n} totals at "
            f"confidence >= {HIGH_CONFIDENCE}, {t.confident_wrong_total} of them wrong; "
            f"confident but wrong dates {t.confident_wrong_date}, merchants "
            f"{t.confident_wrong_merchant}; unreadable files {t.errors}"
        )
        if t.time_n or t.number_n:
            lines.append(
                f"{t.engine} ({PART_TITLES[t.part]}): times {t.time_ok}/{t.time_n}, "
                f"receipt numbers {t.number_ok}/{t.number_n} (where the labels give them)"
            )
    return "\n".join(lines)


def speed_report(tallies: list[Tally]) -> str:
    """Our full read against stock RapidOCR() on the same photos, per engine and part."""
    rows = [t for t in tallies if t.stock_ms]
    if not rows:
        return ""
    head = (
        f"{'engine':<10} {'part':<11} {'n':>4} {'stock p50':>9} {'stock p90':>9} "
        f"{'ours p50':>9} {'ours p90':>9} {'ratio p50':>9} {'ratio p90':>9} {'ratio sum':>9}"
    )
    lines = ["Full read (OCR + extraction) against stock RapidOCR(), same photos, same run", head]
    lines.append("-" * len(head))
    for t in rows:
        stock50, stock90 = percentile(t.stock_ms, 50), percentile(t.stock_ms, 90)
        ours50, ours90 = percentile(t.full_ms, 50), percentile(t.full_ms, 90)
        lines.append(
            f"{t.engine:<10} {PART_TITLES[t.part]:<11} {len(t.full_ms):>4} "
            f"{stock50:>7.0f}ms {stock90:>7.0f}ms {ours50:>7.0f}ms {ours90:>7.0f}ms "
            f"{ours50 / stock50:>8.2f}x {ours90 / stock90:>8.2f}x "
            f"{sum(t.full_ms) / sum(t.stock_ms):>8.2f}x"
        )
    return "\n".join(lines)


def write_misses(tallies: list[Tally], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    misses = [miss for tally in tallies for miss in tally.misses]
    order = {"image": 0, "part": 1}
    keys = sorted({key for miss in misses for key in miss}, key=lambda k: (order.get(k, 2), k))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys or ["image", "part"])
        writer.writeheader()
        writer.writerows(misses)


def default_part(folder: Path) -> str:
    """Both parts for the shared development photos, the whole folder for any other set."""
    try:
        shared = folder.resolve() == SHARED_RECEIPTS.resolve()
    except OSError:
        shared = False
    return "both" if shared else "all"


def choose_parts(labels: list[dict], part: str, limit: int) -> dict[str, list[dict]]:
    if part == "both":
        dev, held_out = split(labels)
        batches = {"dev": dev, "heldout": held_out}
    elif part == "all":
        batches = {"all": labels}
    else:
        batches = {part: [label for label in labels if is_held_out(label) == (part == "heldout")]}
    if limit:
        batches = {name: items[:limit] for name, items in batches.items()}
    return batches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--engine", action="append", help="repeatable; default rapidocr")
    parser.add_argument("--limit", type=int, default=0, help="only the first N of each part")
    parser.add_argument(
        "--part",
        choices=("dev", "heldout", "all", "both"),
        help="which part of the fixed split to read; both: dev and held-out tables "
        "(default on ../shared/receipts, else all)",
    )
    parser.add_argument(
        "--stock",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time stock RapidOCR() on each photo (default: when rapidocr is installed)",
    )
    parser.add_argument("--currency", default="MYR", help="the shops' currency when unprinted")
    parser.add_argument("--timezone", default="Asia/Kuala_Lumpur")
    parser.add_argument("--today", type=date.fromisoformat, help="judge dates as of this day")
    parser.add_argument("--misses", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--ocr-cache",
        type=Path,
        help="read OCR lines from (and add them to) this cache, e.g. bench-results/ocr-cache; "
        "only the extraction runs again, no speed figures",
    )
    args = parser.parse_args(argv)

    all_labels = json.loads((args.folder / "labels.json").read_text(encoding="utf-8"))
    part = args.part or default_part(args.folder)
    batches = choose_parts(all_labels, part, args.limit)
    reading = ", ".join(f"{PART_TITLES[name]} {len(items)}" for name, items in batches.items())
    if part == "all":
        print(f"{args.folder}: {len(all_labels)} receipts; reading {reading}")
    else:
        dev, held_out = split(all_labels)
        print(
            f"{args.folder}: {len(all_labels)} receipts; fixed split "
            f"(loyalchat.tools.receipt_sets): development {len(dev)}, held out "
            f"{len(held_out)} ({_pct(len(held_out), len(all_labels)).strip()}); "
            f"reading {reading}"
        )
    today = args.today or max(date.fromisoformat(label["date"]) for label in all_labels)
    now = datetime.combine(today, datetime.max.time())
    profile = ReceiptProfile(currency=args.currency, timezone=args.timezone)
    stock = None
    if args.ocr_cache is not None:
        args.stock = False
    elif args.stock is None or args.stock:
        if stock_available():
            stock = StockRapidOcr()
        elif args.stock:
            print("--stock: the rapidocr package is not installed; skipping stock timings")
        else:
            print("rapidocr is not installed: no stock RapidOCR() timings")
    tallies: list[Tally] = []
    started = time.perf_counter()
    for engine in args.engine or ["rapidocr"]:
        cache = OcrCache(args.ocr_cache, engine) if args.ocr_cache else None
        per_part = asyncio.run(run_engine(engine, args.folder, batches, profile, now, stock, cache))
        tallies += per_part.values()
        write_misses(
            list(per_part.values()), args.misses / f"misses-{args.folder.name}-{engine}.csv"
        )
    print(report(tallies))
    speed = speed_report(tallies)
    if speed:
        print("\n" + speed)
    read = sum(len(items) for items in batches.values())
    print(
        f"\n{read} receipts from {args.folder} in {time.perf_counter() - started:.0f} s "
        f"(dates as of {today}); misses written under {args.misses}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Receipt reading benchmark: accuracy and latency per OCR engine on a labelled folder.

    python bench/receipts.py ../shared/receipts --engine rapidocr --engine tesseract
    python -m loyalchat receipts synth /tmp/synth --count 200 --style hk --style cn
    python bench/receipts.py /tmp/synth --currency HKD --today 2026-11-23

DIR holds ``labels.json`` (a list of {image, company, date, total}) and the images. For
each engine it prints exact-match accuracy of total, date and merchant (fuzzy, normalised),
the share of receipts whose total came back with high confidence but wrong, and latency
p50/p90 for OCR and extraction separately; it writes DIR-independent CSVs of the misses.
Reads through the same ``ReceiptReader`` as ``loyalchat receipts read``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from rapidfuzz import fuzz

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.receipts.reading import ImageRejected
from loyalchat.receipts.reading.parse.text import name_key
from loyalchat.receipts.reading.reader import ReceiptReader

HIGH_CONFIDENCE = 0.8


@dataclass
class Tally:
    engine: str
    n: int = 0
    errors: int = 0
    total_ok: int = 0
    date_ok: int = 0
    merchant_ok: int = 0
    confident_totals: int = 0
    confident_wrong_total: int = 0
    confident_wrong_date: int = 0
    confident_wrong_merchant: int = 0
    ocr_ms: list[float] = field(default_factory=list)
    extract_ms: list[float] = field(default_factory=list)
    misses: list[dict] = field(default_factory=list)


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


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run_engine(engine: str, folder: Path, labels: list[dict], profile, now) -> Tally:
    reader = ReceiptReader(engine, profile=profile, pm=build_plugin_manager(), now=now)
    tally = Tally(engine)
    with click.progressbar(labels, label=f"{engine:>10}", file=sys.stderr, show_pos=True) as bar:
        for label in bar:
            tally.n += 1
            try:
                reading = await reader.read((folder / label["image"]).read_bytes())
            except (ImageRejected, OSError) as exc:
                tally.errors += 1
                tally.misses.append({"image": label["image"], "error": str(exc)})
                continue
            row = reading.to_json(label["image"])
            conf = row["confidence"]
            tally.ocr_ms.append(reading.ocr_ms)
            tally.extract_ms.append(reading.extract_ms)
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
            tally.confident_wrong_merchant += (
                conf["merchant"] >= HIGH_CONFIDENCE and not ok["merchant"]
            )
            if not all(ok.values()):
                tally.misses.append(
                    {
                        "image": label["image"],
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
    return tally


def report(tallies: list[Tally]) -> str:
    def pct(part: int, whole: int) -> str:
        return f"{100 * part / whole:5.1f}%" if whole else "   - "

    head = (
        f"{'engine':<10} {'n':>4} {'total':>7} {'date':>7} {'merchant':>8} "
        f"{'conf.wrong total':>16} {'ocr p50':>8} {'ocr p90':>8} {'extr p50':>8} {'extr p90':>8}"
    )
    lines = [head, "-" * len(head)]
    for t in tallies:
        lines.append(
            f"{t.engine:<10} {t.n:>4} {pct(t.total_ok, t.n):>7} {pct(t.date_ok, t.n):>7} "
            f"{pct(t.merchant_ok, t.n):>8} {pct(t.confident_wrong_total, t.n):>16} "
            f"{percentile(t.ocr_ms, 50):>6.0f}ms {percentile(t.ocr_ms, 90):>6.0f}ms "
            f"{percentile(t.extract_ms, 50):>6.0f}ms {percentile(t.extract_ms, 90):>6.0f}ms"
        )
    lines.append("")
    for t in tallies:
        lines.append(
            f"{t.engine}: {t.confident_totals}/{t.n} totals at confidence >= {HIGH_CONFIDENCE}, "
            f"{t.confident_wrong_total} of them wrong; confident but wrong dates "
            f"{t.confident_wrong_date}, merchants {t.confident_wrong_merchant}; "
            f"unreadable files {t.errors}"
        )
    return "\n".join(lines)


def write_misses(tally: Tally, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted({key for miss in tally.misses for key in miss}, key=lambda k: (k != "image", k))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys or ["image"])
        writer.writeheader()
        writer.writerows(tally.misses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--engine", action="append", help="repeatable; default rapidocr")
    parser.add_argument("--limit", type=int, default=0, help="only the first N receipts")
    parser.add_argument("--currency", default="MYR", help="the shops' currency when unprinted")
    parser.add_argument("--timezone", default="Asia/Kuala_Lumpur")
    parser.add_argument("--today", type=date.fromisoformat, help="judge dates as of this day")
    parser.add_argument("--misses", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)

    labels = json.loads((args.folder / "labels.json").read_text(encoding="utf-8"))
    if args.limit:
        labels = labels[: args.limit]
    today = args.today or max(date.fromisoformat(label["date"]) for label in labels)
    now = datetime.combine(today, datetime.max.time())
    profile = ReceiptProfile(currency=args.currency, timezone=args.timezone)
    tallies = []
    started = time.perf_counter()
    for engine in args.engine or ["rapidocr"]:
        tally = asyncio.run(run_engine(engine, args.folder, labels, profile, now))
        tallies.append(tally)
        write_misses(tally, args.misses / f"misses-{args.folder.name}-{engine}.csv")
    print(report(tallies))
    print(
        f"\n{len(labels)} receipts from {args.folder} in {time.perf_counter() - started:.0f} s; "
        f"misses written under {args.misses}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

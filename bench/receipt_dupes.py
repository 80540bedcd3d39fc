"""Tune and measure the perceptual duplicate check (loyalchat.receipts.fingerprint).

    python bench/receipt_dupes.py ../shared/receipts [--captures 3] [--seed 11] [--json]

No receipt there was photographed twice, so each photo gets ``--captures`` simulated
re-captures (:func:`recapture`: perspective and turn up to +-5 degrees, another margin or
crop with a table around the paper, scale, light and white balance, blur, JPEG at
another quality or a screenshot-like resize to PNG). Same receipt = any two versions of
one photo (the original and a re-capture, or two re-captures); different receipts = any
two versions of different photos, and among them the hard ones: the same company
(SROIE has up to 23 receipts of one shop, same header, same layout).

The companies are split in two halves by ``--seed`` (so all receipts of a shop sit in one
half with their look-alikes). On the tuning half each method's threshold is the largest
distance that still keeps every different-receipt pair out, less a safety margin of
1/32 of the bits (a false match rejects a real customer); the method with the fewest
missed re-captures there is chosen; the held-out half gives the figures reported. A
second, review threshold lets at most REVIEW_RATE of the tuning half's different pairs
through (a hint for a person, never a rejection).

Run on 2 cores (seed 11, 3 captures, 3.4 minutes): every method's safe threshold is below
0 (UNIHAKKA's receipts, one layout a few digits apart, are 0-8 bits apart), so none
rejects a re-capture safely; loyalchat.receipts.fingerprint has the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from loyalchat.receipts import fingerprint as fp

REVIEW_RATE = 0.001  # share of different-receipt pairs a review hint may flag (tuning half)
DEFAULT_FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "receipts"
TABLES = ((120, 90, 60), (70, 70, 75), (200, 200, 195), (35, 35, 35), (150, 120, 100))
RAW = {
    "phash_raw": lambda im: fp._hex(imagehash.phash(im)),
    "dhash_raw": lambda im: fp._hex(imagehash.dhash(im)),
    "whash_raw": lambda im: fp._hex(imagehash.whash(im)),
}


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]):
    """Coefficients for Image.transform(PERSPECTIVE): output point ``dst`` <- input ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = [c for point in src for c in point]
    return np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)).tolist()


def recapture(image: Image.Image, rng: random.Random) -> bytes:
    """The same receipt photographed again, as a chat app would deliver it."""
    image = image.convert("RGB")
    scale = rng.uniform(0.55, 1.0)
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    table = tuple(max(0, min(255, c + rng.randint(-15, 15))) for c in rng.choice(TABLES))
    w, h = image.size
    if rng.random() < 0.5:  # more of the table around the paper
        pads = [round(rng.uniform(0, 0.08) * s) for s in (w, h, w, h)]
        canvas = Image.new("RGB", (w + pads[0] + pads[2], h + pads[1] + pads[3]), table)
        canvas.paste(image, (pads[0], pads[1]))
        image = canvas
    else:  # framed tighter: a sliver of the margin cut
        cut = [round(rng.uniform(0, 0.03) * s) for s in (w, h, w, h)]
        image = image.crop((cut[0], cut[1], w - cut[2], h - cut[3]))
    image = image.rotate(
        rng.uniform(-5, 5), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=table
    )
    w, h = image.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    moved = [
        (x + rng.uniform(-0.04, 0.04) * w, y + rng.uniform(-0.03, 0.03) * h) for x, y in corners
    ]
    image = image.transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        _perspective_coeffs(corners, moved),
        Image.Resampling.BICUBIC,
        fillcolor=table,
    )
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.75, 1.2))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.2))
    gains = np.array([rng.uniform(0.9, 1.1) for _ in range(3)], dtype=np.float32)
    image = Image.fromarray(np.clip(np.asarray(image) * gains, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    out = io.BytesIO()
    if rng.random() < 0.25:  # a screenshot of the photo: phone-width, PNG
        width = rng.choice((720, 1080))
        image = image.resize((width, round(image.height * width / image.width)))
        image.save(out, format="PNG")
    else:
        image.save(out, format="JPEG", quality=rng.randint(55, 95))
    return out.getvalue()


def hashes(data: bytes) -> dict[str, str]:
    """Every candidate method's hex hash of one photo."""
    gray = fp.receipt_gray(data)
    found = {name: make(gray) for name, make in RAW.items()}
    straight = fp.straightened(gray)
    found.update({name: make(straight) for name, make in fp.METHODS.items()})
    return found


def process(task: tuple[Path, int, int]) -> list[dict[str, str]]:
    """Hashes of a photo and of its re-captures (first is the original)."""
    path, captures, seed = task
    data = path.read_bytes()
    rng = random.Random(f"{seed}:{path.name}")
    original = Image.open(io.BytesIO(data))
    versions = [data] + [recapture(original, rng) for _ in range(captures)]
    return [hashes(v) for v in versions]


def progress(items, total: int):
    try:
        from tqdm import tqdm
    except ImportError:  # a plain counter on stderr

        def plain():
            for done, item in enumerate(items, 1):
                print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)
                yield item
            print(file=sys.stderr)

        return plain()
    return tqdm(items, total=total, file=sys.stderr)


def bits(hexes: list[str]) -> np.ndarray:
    """Hex hashes as a 0/1 float matrix, one row per hash."""
    width = len(hexes[0]) * 4
    values = [bin(int(h, 16))[2:].zfill(width) for h in hexes]
    return np.array([[c == "1" for c in v] for v in values], dtype=np.float32)


def pair_distances(rows: list[dict], method: str):
    """(positive, negative, same-company negative) distance arrays for one half."""
    owner = np.array([i for i, row in enumerate(rows) for _ in row["versions"]])
    company = np.array([row["company"] for row in rows for _ in row["versions"]])
    b = bits([v[method] for row in rows for v in row["versions"]])
    dist = b @ (1 - b).T + (1 - b) @ b.T
    upper = np.triu(np.ones_like(dist, dtype=bool), k=1)
    same = owner[:, None] == owner[None, :]
    firm = company[:, None] == company[None, :]
    return dist[upper & same], dist[upper & ~same], dist[upper & ~same & firm]


def closest_originals(rows: list[dict], method: str, count: int = 5) -> list[tuple[int, str, str]]:
    """The nearest pairs of different original photos: worth a look (a dataset may hold
    one receipt twice, or two that really are alike)."""
    b = bits([row["versions"][0][method] for row in rows])
    dist = b @ (1 - b).T + (1 - b) @ b.T
    pairs = [
        (int(dist[i, j]), rows[i]["image"], rows[j]["image"])
        for i in range(len(rows))
        for j in range(i + 1, len(rows))
    ]
    return sorted(pairs)[:count]


def summary(values: np.ndarray) -> str:
    if not values.size:
        return "-"
    p = np.percentile(values, [0, 1, 50, 99, 100])
    return "min {:.0f} p1 {:.0f} p50 {:.0f} p99 {:.0f} max {:.0f} (n={})".format(*p, values.size)


def rates(pos, neg, firm, threshold: int) -> dict:
    return {
        "threshold": threshold,
        "false_matches": int((neg <= threshold).sum()),
        "negative_pairs": int(neg.size),
        "false_matches_same_company": int((firm <= threshold).sum()),
        "same_company_pairs": int(firm.size),
        "false_match_rate": float((neg <= threshold).mean()),
        "misses": int((pos > threshold).sum()),
        "positive_pairs": int(pos.size),
        "miss_rate": float((pos > threshold).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--captures", type=int, default=3, help="re-captures per photo")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the hashes in this JSON file and reuse them (same photos, captures, seed)",
    )
    args = parser.parse_args()

    labels = json.loads((args.folder / "labels.json").read_text())
    if args.limit:
        labels = labels[: args.limit]
    companies = sorted({row["company"] for row in labels})
    random.Random(args.seed).shuffle(companies)
    half = {c: i % 2 for i, c in enumerate(companies)}  # 0 = tuning, 1 = held out

    started = time.perf_counter()
    tasks = [(args.folder / row["image"], args.captures, args.seed) for row in labels]
    if args.cache and args.cache.is_file():
        results = json.loads(args.cache.read_text())
    else:
        with Pool(args.workers) as pool:
            results = list(progress(pool.imap(process, tasks, chunksize=2), len(tasks)))
        if args.cache:
            args.cache.write_text(json.dumps(results))
    halves: dict[int, list[dict]] = defaultdict(list)
    for row, versions in zip(labels, results, strict=True):
        halves[half[row["company"]]].append(
            {"image": row["image"], "company": row["company"], "versions": versions}
        )

    methods = list(results[0][0])
    report: dict[str, dict] = {}
    for method in methods:
        tune = pair_distances(halves[0], method)
        held = pair_distances(halves[1], method)
        nbits = len(results[0][0][method]) * 4
        threshold = int(tune[1].min()) - 1 - nbits // 32
        # For review only: the largest distance at which at most REVIEW_RATE of the
        # tuning half's different-receipt pairs would be flagged.
        review = int(np.quantile(tune[1], REVIEW_RATE, method="lower")) - 1
        report[method] = {
            "bits": nbits,
            "tuning": rates(*tune, threshold),
            "held_out": rates(*held, threshold),
            "review_tuning": rates(*tune, review),
            "review_held_out": rates(*held, review),
            "distributions": {
                "same_receipt": summary(held[0]),
                "different": summary(held[1]),
                "same_company": summary(held[2]),
            },
        }
    chosen = min(
        methods,
        key=lambda m: (
            report[m]["tuning"]["miss_rate"],
            report[m]["review_tuning"]["miss_rate"],
            report[m]["bits"],
        ),
    )
    everyone = halves[0] + halves[1]
    closest = closest_originals(everyone, chosen)
    elapsed = time.perf_counter() - started
    result = {
        "photos": len(labels),
        "captures": args.captures,
        "seed": args.seed,
        "halves": {"tuning": len(halves[0]), "held_out": len(halves[1])},
        "seconds": round(elapsed, 1),
        "chosen": {"method": chosen, **report[chosen]["held_out"]},
        "review": {"method": chosen, **report[chosen]["review_held_out"]},
        "closest_different_originals": closest,
        "methods": report,
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"{len(labels)} photos x {1 + args.captures} versions, tuning {len(halves[0])} / "
        f"held out {len(halves[1])} photos, {elapsed:.0f} s"
    )
    for method in methods:
        r, d = report[method], report[method]["distributions"]
        h = r["held_out"]
        print(
            f"\n{method} ({r['bits']} bits), threshold {h['threshold']} (tuning misses "
            f"{r['tuning']['miss_rate']:.1%})"
        )
        print(f"  held-out same receipt : {d['same_receipt']}")
        print(f"  held-out different    : {d['different']}")
        print(f"  held-out same company : {d['same_company']}")
        print(
            f"  held out: false matches {h['false_matches']}/{h['negative_pairs']} "
            f"(same company {h['false_matches_same_company']}/{h['same_company_pairs']}), "
            f"misses {h['misses']}/{h['positive_pairs']} ({h['miss_rate']:.1%})"
        )
        v = r["review_held_out"]
        print(
            f"  review threshold {v['threshold']}: false matches {v['false_matches']}/"
            f"{v['negative_pairs']} (same company {v['false_matches_same_company']}/"
            f"{v['same_company_pairs']}), misses {v['misses']}/{v['positive_pairs']} "
            f"({v['miss_rate']:.1%})"
        )
    print(f"\nclosest different original photos by {chosen}:")
    for gap, one, other in closest:
        print(f"  {gap:4d}  {one}  {other}")
    c, v = result["chosen"], result["review"]
    print(
        f"\nreview: {chosen}, threshold {v['threshold']}: held-out false-match rate "
        f"{v['false_match_rate']:.4f} (same company {v['false_matches_same_company']}/"
        f"{v['same_company_pairs']}), miss rate {v['miss_rate']:.1%}"
    )
    print(
        f"\nchosen: {chosen}, threshold {c['threshold']}: held-out false-match rate "
        f"{c['false_match_rate']:.5f} ({c['false_matches']}/{c['negative_pairs']}), miss rate "
        f"{c['miss_rate']:.1%} ({c['misses']}/{c['positive_pairs']})"
    )


if __name__ == "__main__":
    main()

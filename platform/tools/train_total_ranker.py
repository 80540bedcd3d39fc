"""``loyalchat receipts train``: fit the total ranker and its confidence calibration.

Training data: the development part of ``../shared/receipts`` (never the held-out part,
see ``loyalchat.tools.receipt_sets``) plus synthetic receipts of the base vocabulary
(``loyalchat receipts synth``; the ``holdout`` vocabulary is for reporting only). OCR comes
from ``loyalchat.tools.ocr_cache``, so a retrain after the first one takes seconds.

Each money-like amount of a receipt is a candidate (``parse.rank.candidates``); it is
labelled right when it equals the labelled total. The command prints 5-fold
cross-validated accuracy per receipt (the top candidate is the total) next to the rules',
fits an isotonic map from the out-of-fold certainty (``parse.rank.certainty``) to P(right),
picks the certainty from which
totals are right at least 99.5 % of the time out of fold (that is where confidence 0.8
starts), prints precision and coverage there, and saves the model fitted on everything
into the package (``receipts/reading/models/total_ranker.npz``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading.parse import rank
from loyalchat.receipts.reading.parse.generic import read_rows
from loyalchat.receipts.reading.parse.total import TotalChoice, choose_total
from loyalchat.receipts.reading.parse.trees import TreeEnsemble
from loyalchat.tools import total_layouts
from loyalchat.tools.ocr_cache import DEFAULT_CACHE, OcrCache, labelled_lines
from loyalchat.tools.receipt_sets import split

SHARED = Path(__file__).resolve().parents[3] / "shared" / "receipts"
PRECISION = 0.995
FOLDS = 5
REPEATS = 3
# The synthetic photo sets: (folder, seed, difficulty), 200 receipts each.
DEFAULT_SYNTH = (
    (Path("bench-results/ranker-synth-4242"), 4242, 0.5),
    (Path("bench-results/ranker-synth-777"), 777, 0.9),
)
SYNTH_COUNT = 200
SYNTH_TODAY = date(2025, 6, 11)
LAYOUT_SEED = 4242
SAFETY_STEPS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2)


@dataclass
class Example:
    source: str  # "dev" or "synth"
    image: str
    truth: Decimal
    found: list[rank.Candidate]
    rules: TotalChoice | None

    @property
    def rules_value(self) -> Decimal | None:
        return abs(self.rules.value) if self.rules is not None else None

    def certainty(self, ranked: rank.RankedTotal) -> float:
        assert self.rules is not None
        return rank.certainty(ranked, self.rules)


def _truth(label: dict) -> Decimal | None:
    try:
        return abs(Decimal(str(label["total"])))
    except (InvalidOperation, KeyError):
        return None


def examples_of(
    folder: Path, labels: list[dict], source: str, profile: ReceiptProfile, cache: OcrCache
) -> list[Example]:
    today = max(date.fromisoformat(label["date"]) for label in labels)
    now = datetime.combine(today, datetime.max.time())
    out = []
    for label, lines in zip(
        labels, labelled_lines(folder, labels, cache, f"OCR {source}"), strict=True
    ):
        truth = _truth(label)
        if lines is None or truth is None:
            continue
        rows, _, _, infos = read_rows(lines, profile, now)
        rules = choose_total(rows, infos, profile.total_labels, profile.amount_range)
        found = rank.candidates(rows, infos, rules)
        out.append(Example(source, label["image"], truth, found, rules))
    return out


def layout_examples(count: int, seed: int) -> list[Example]:
    """Text-level receipts (``loyalchat.tools.total_layouts``): for the model, never for
    the calibration, which is fitted on photos read by OCR only."""
    profile = ReceiptProfile("HKD", "Asia/Hong_Kong")
    now = datetime(2025, 6, 11, 23, 59)
    out = []
    for k, (lines, truth) in enumerate(total_layouts.layouts(count, seed)):
        rows, _, _, infos = read_rows(lines, profile, now)
        rules = choose_total(rows, infos)
        out.append(
            Example("layout", f"layout-{k}", truth, rank.candidates(rows, infos, rules), rules)
        )
    return out


def _fit(examples: list[Example]):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = [c.features for e in examples for c in e.found]
    y = [int(c.value == e.truth) for e in examples for c in e.found]
    model = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=15,
        l2_regularization=1.0,
        random_state=0,
    )
    return model.fit(x, y)


def fold_of(count: int, repeat: int) -> list[int]:
    """Each receipt's fold: in turn for the first repeat, shuffled (seeded) for the others."""
    folds = [k % FOLDS for k in range(count)]
    if repeat:
        random.Random(repeat).shuffle(folds)
    return folds


def out_of_fold(examples: list[Example], folds: list[int]) -> list[rank.RankedTotal | None]:
    """Each receipt's top candidate scored by a model that never saw that receipt."""
    ranked: list[rank.RankedTotal | None] = [None] * len(examples)
    for fold in range(FOLDS):
        train = [e for e, f in zip(examples, folds, strict=True) if f != fold]
        model = _fit([e for e in train if e.found])
        for k, e in enumerate(examples):
            if folds[k] == fold and e.found:
                ranked[k] = rank.rank(model, e.found)
    return ranked


def threshold_for(scored: list[tuple[float, bool]], precision: float) -> float | None:
    """The certainty from which totals are right at ``precision``, covering the most; None
    when no total is wrong (nothing to place a threshold against).

    Just above the first score left out (0.005 above it, or halfway to the last one let in
    if nearer), so that a score on the boundary is not decided by rounding.
    """
    if all(ok for _, ok in scored):
        return None
    ordered = sorted(scored, key=lambda s: -s[0])
    best, right = None, 0
    for k, (_, ok) in enumerate(ordered):
        right += ok
        if right / (k + 1) >= precision:
            best = k
    if best is None:
        return float("inf")
    below = ordered[best + 1][0] if best + 1 < len(ordered) else 0.0
    return min((ordered[best][0] + below) / 2, below + 0.005)


def fitted_threshold(agree: dict[str, list[tuple[float, bool]]]) -> float:
    """The highest of the sources' thresholds; none at all (no wrong total to learn from)
    means no total is trusted."""
    found = [t for part in agree.values() if (t := threshold_for(part, PRECISION)) is not None]
    return max(found, default=float("inf"))


def _agreeing(examples: list[Example], ranked: list, keep) -> dict[str, list[tuple[float, bool]]]:
    """(certainty, right) of receipts where model and rules name the same total, by source."""
    return {
        source: [
            (e.certainty(r), r.value == e.truth)
            for k, (e, r) in enumerate(zip(examples, ranked, strict=True))
            if r is not None
            and r.value == e.rules_value
            and not set(e.rules.warnings) & rank.RULES_DOUBT
            and e.source == source
            and keep(k)
        ]
        for source in ("dev", "synth")
    }


def safety_margin(
    examples: list[Example], first: list[rank.RankedTotal | None]
) -> tuple[float, float]:
    """How far above the fitted threshold to start, so that it holds on receipts not used to
    fit it: the smallest margin at which nested cross-validation (threshold fitted on the
    out-of-fold scores of four folds, judged on the fifth), repeated with differently
    shuffled folds, keeps the development receipts at ``PRECISION`` every time.

    Returns (margin, the development receipts' mean nested coverage at it)."""
    runs = []
    for repeat in range(REPEATS):
        folds = fold_of(len(examples), repeat)
        ranked = first if repeat == 0 else out_of_fold(examples, folds)
        runs.append((folds, ranked))
    dev = sum(e.source == "dev" for e in examples)
    for margin in SAFETY_STEPS:
        coverages, ok = [], True
        for folds, ranked in runs:
            covered = right = 0
            for fold in range(FOLDS):
                fit = _agreeing(examples, ranked, lambda k, f=fold, fs=folds: fs[k] != f)
                threshold = fitted_threshold(fit)
                judged = _agreeing(examples, ranked, lambda k, f=fold, fs=folds: fs[k] == f)
                high = [good for score, good in judged["dev"] if score >= threshold + margin]
                covered += len(high)
                right += sum(high)
            ok = ok and (right >= PRECISION * covered)
            coverages.append(covered / max(dev, 1))
        if ok:
            return margin, sum(coverages) / len(coverages)
    return SAFETY_STEPS[-1], 0.0


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


@click.command("train")
@click.option(
    "--receipts",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SHARED,
    show_default=True,
    help="Labelled photos; only their development part is used.",
)
@click.option(
    "--synth",
    "synth_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Synthetic set (repeatable); generated there (base vocabulary) if missing. "
    "Default: the two sets the shipped model was trained on, under bench-results/.",
)
@click.option(
    "--layouts", default=300, show_default=True, help="Text-level receipts of rarer layouts."
)
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CACHE)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=rank.MODEL_PATH)
def train_command(
    receipts: Path,
    synth_dirs: tuple[Path, ...],
    layouts: int,
    cache: Path,
    out: Path,
) -> None:
    """Train the total ranker on the development receipts plus synthetic ones."""
    import sklearn
    from sklearn.isotonic import IsotonicRegression

    from loyalchat.tools.receipt_synth import write_dataset

    ocr = OcrCache(cache)
    labels = json.loads((receipts / "labels.json").read_text(encoding="utf-8"))
    dev, _ = split(labels)
    examples = examples_of(receipts, dev, "dev", ReceiptProfile("MYR", "Asia/Kuala_Lumpur"), ocr)
    sets = [(folder, 4242, 0.5) for folder in synth_dirs] or list(DEFAULT_SYNTH)
    for folder, seed, difficulty in sets:
        if not (folder / "labels.json").exists():
            click.echo(f"Generating {SYNTH_COUNT} synthetic receipts into {folder}", err=True)
            write_dataset(
                folder, SYNTH_COUNT, seed, difficulty=difficulty, today=SYNTH_TODAY, vocab="base"
            )
        synth = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        if any(item.get("vocab", "base") != "base" for item in synth):
            raise click.UsageError(f"{folder}: not the base vocabulary; never train on holdout")
        examples += examples_of(
            folder, synth, "synth", ReceiptProfile("HKD", "Asia/Hong_Kong"), ocr
        )

    examples += layout_examples(layouts, LAYOUT_SEED)
    ranked = out_of_fold(examples, fold_of(len(examples), 0))
    click.echo(f"{FOLDS}-fold cross-validation, receipt level (the top candidate is the total):")
    for source in ("dev", "synth", "layout"):
        part = [(e, r) for e, r in zip(examples, ranked, strict=True) if e.source == source]
        if not part:
            continue
        model_ok = sum(r is not None and r.value == e.truth for e, r in part)
        rules_ok = sum(e.rules_value == e.truth for e, _ in part)
        listed = sum(any(c.value == e.truth for c in e.found) for e, _ in part)
        click.echo(
            f"  {source:<5} n={len(part)}: model {_pct(model_ok, len(part))}, rules "
            f"{_pct(rules_ok, len(part))}, truth among candidates {_pct(listed, len(part))}"
        )

    # Where the model and the rules disagree the confidence is capped below 0.8 anyway.
    agree = _agreeing(examples, ranked, lambda k: True)
    every = agree["dev"] + agree["synth"]
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit([s for s, _ in every], [float(ok) for _, ok in every])
    margin, nested_coverage = safety_margin(examples, ranked)
    click.echo(
        f"Safety margin {margin:.2f}: nested cross-validation ({REPEATS} shufflings) keeps the "
        f"development receipts at {100 * PRECISION:.1f} % precision, coverage "
        f"{100 * nested_coverage:.1f} %"
    )
    threshold = fitted_threshold(agree) + margin
    click.echo(f"Confidence 0.8 starts at certainty {threshold:.3f} (out of fold):")
    for source in ("dev", "synth"):
        part = [(e, r) for e, r in zip(examples, ranked, strict=True) if e.source == source]
        high = [
            (e, r)
            for e, r in part
            if r is not None
            and r.value == e.rules_value
            and not set(e.rules.warnings) & rank.RULES_DOUBT
            and e.certainty(r) >= threshold
        ]
        right = sum(r.value == e.truth for e, r in high)
        click.echo(
            f"  {source:<5} coverage {_pct(len(high), len(part))}, precision "
            f"{_pct(right, len(high))} ({len(high) - right} wrong of {len(high)})"
        )

    about = {
        "format": rank.FORMAT_VERSION,
        "features": rank.feature_names(),
        "sklearn": sklearn.__version__,  # what trained it; not needed to read it
        "iso_x": [float(v) for v in iso.X_thresholds_],
        "iso_y": [float(v) for v in iso.y_thresholds_],
        "threshold": float(threshold),
        "trained_on": {
            "dev": sum(e.source == "dev" for e in examples),
            "synth": sum(e.source == "synth" for e in examples),
            "layout": sum(e.source == "layout" for e in examples),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    TreeEnsemble.from_sklearn(_fit([e for e in examples if e.found])).save(out, about)
    click.echo(f"Saved {out} ({out.stat().st_size // 1024} KiB)")

"""``loyalchat receipts synth OUT_DIR``: write synthetic receipt photos and labels.json."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path

import click

from loyalchat.tools.receipt_synth import STYLES, VOCABS, write_dataset


@click.command("synth")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same files.")
@click.option(
    "--style",
    "styles",
    multiple=True,
    type=click.Choice(STYLES),
    help="Receipt style (repeatable): hk, cn or en. Default: all three.",
)
@click.option(
    "--difficulty",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Photo effects, 0 (flat paper) to 1 (dim, blurred, tilted).",
)
@click.option(
    "--vocab",
    default="base",
    show_default=True,
    type=click.Choice(VOCABS),
    help="holdout: shops, wording, formats and layouts the reading engine was never "
    "tuned on (for held-out benchmarks; never tune on them).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Receipts are dated up to 120 days before this day (default: today).",
)
def synth_command(
    out_dir: Path,
    count: int,
    seed: int,
    styles: tuple[str, ...],
    difficulty: float,
    vocab: str,
    today,
) -> None:
    """Generate COUNT labelled receipt photos into OUT_DIR (images/ and labels.json)."""
    day: dt.date | None = today.date() if today else None
    with click.progressbar(
        length=count, label="Generating receipts", file=sys.stderr, show_pos=True
    ) as bar:
        labels = write_dataset(
            out_dir,
            count,
            seed,
            styles=styles or STYLES,
            difficulty=difficulty,
            today=day,
            on_sample=lambda _sample: bar.update(1),
            vocab=vocab,
        )
    by_style = Counter(label["style"] for label in labels)
    by_currency = Counter(label["currency"] for label in labels)
    rotated = sum(1 for label in labels if label["rotation"])
    click.echo(f"Wrote {len(labels)} receipts to {out_dir} (labels.json, images/).")
    click.echo("Styles: " + ", ".join(f"{k} {v}" for k, v in sorted(by_style.items())))
    click.echo("Currencies: " + ", ".join(f"{k} {v}" for k, v in sorted(by_currency.items())))
    click.echo(f"Quarter-turned photos: {rotated}; seed {seed}, difficulty {difficulty}.")
    if vocab != "base":
        regions = Counter(label.get("region", label["style"]) for label in labels)
        refunds = sum(1 for label in labels if label.get("refund"))
        click.echo(
            f"Vocabulary {vocab}: regions "
            + ", ".join(f"{k} {v}" for k, v in sorted(regions.items()))
            + f"; refunds {refunds}."
        )

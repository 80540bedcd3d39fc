"""Synthetic receipt photos with exact labels, for tests and the reading benchmark.

Hong Kong (Traditional Chinese + English), mainland (Simplified Chinese) and English
receipts, printed with Noto CJK on a thermal-paper look and photographed with optional
tilt, perspective, blur, shadows, noise and JPEG artefacts. Deterministic by seed.

    from loyalchat.tools.receipt_synth import generate, make_spec
    samples = generate(20, seed=7, styles=("hk", "cn"), difficulty=0.5)

``vocab="holdout"`` (``loyalchat receipts synth --vocab holdout``) draws from another
vocabulary and other templates (``holdout``, ``vocab_holdout``: new shops, wording, date
formats, Taiwanese receipts, refunds) that the reading engine was never tuned on: use it
to measure, never to tune.
"""

from loyalchat.tools.receipt_synth.augment import photograph
from loyalchat.tools.receipt_synth.content import STYLES, make_spec
from loyalchat.tools.receipt_synth.dataset import (
    VOCABS,
    Sample,
    generate,
    iter_samples,
    make_label,
    sample_seed,
    write_dataset,
)
from loyalchat.tools.receipt_synth.holdout import HoldoutSpec, make_holdout_spec
from loyalchat.tools.receipt_synth.layout import render_receipt
from loyalchat.tools.receipt_synth.spec import Charge, Item, Payment, ReceiptSpec

__all__ = [
    "STYLES",
    "VOCABS",
    "Charge",
    "HoldoutSpec",
    "Item",
    "Payment",
    "ReceiptSpec",
    "Sample",
    "generate",
    "iter_samples",
    "make_holdout_spec",
    "make_label",
    "make_spec",
    "photograph",
    "render_receipt",
    "sample_seed",
    "write_dataset",
]

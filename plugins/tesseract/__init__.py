"""Built-in plugin: Tesseract (Debian ``tesseract-ocr``) as a second opinion.

Needs the ``tesseract`` binary with the ``chi_tra``, ``chi_sim`` and ``eng`` language
packs (Debian: ``tesseract-ocr tesseract-ocr-chi-tra tesseract-ocr-chi-sim``) and the
``pytesseract`` package (``pip install loyalchat[tesseract]``). Missing pieces are
reported when the engine reads, not at start-up, so the plugin always lists.

``LOYALCHAT_OCR_TESSERACT_LANGS`` overrides the languages (default
``chi_tra+chi_sim+eng``).
"""

from __future__ import annotations

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.plugins.tesseract.engine import TesseractEngine

PLUGIN_INFO = PluginInfo(
    title=N_("Receipt reading with Tesseract"),
    summary=N_(
        "A second reader for receipt photos, for printed receipts that the first reader finds hard."
    ),
)


__all__ = ["TesseractEngine"]


@hookimpl
def register_ocr_engines(register) -> None:
    register(TesseractEngine())

"""Built-in plugin: the default OCR engine, RapidOCR with PP-OCRv6 small models in ONNX,
run by OpenVINO (or by ONNX Runtime where OpenVINO is not installed).

The detection and recognition models ship inside the ``rapidocr`` wheel; nothing is
ever downloaded. The models load when a worker that reads receipts boots (or on the
first read), one copy per lane.

Settings (environment):

- ``LOYALCHAT_OCR_RUNTIME``: ``openvino``, ``onnxruntime`` or ``auto`` (the default:
  OpenVINO when installed; it reads a receipt in 0.44 s where ONNX Runtime takes 1.3 s on
  a 2-core CPU, with the same text).
- ``LOYALCHAT_OCR_THREADS``: inference threads per read (default: let the runtime choose,
  i.e. every core).
- ``LOYALCHAT_OCR_LANES``: photos one process reads at once, each with its own copy of
  the models (default: 2 on two cores or more; ``loyalchat worker`` sets 1 per process).
- ``LOYALCHAT_OCR_DET_LIMIT_SIDE``: detection resizes so the image's short side is at
  least this many pixels (default 736, rapidocr's own).
- ``LOYALCHAT_OCR_USE_CLS``: ``1`` to run the per-line 180-degree classifier (default
  ``0``: orientation is searched for the whole page by the reading engine instead).
"""

from __future__ import annotations

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.plugins.rapidocr.engine import RapidOcrEngine, RapidOcrSettings

PLUGIN_INFO = PluginInfo(
    title=N_("Receipt reading"),
    summary=N_(
        "Reads the photos of receipts members send, on this server, so their purchases earn points."
    ),
)


__all__ = ["RapidOcrEngine", "RapidOcrSettings"]


@hookimpl
def register_ocr_engines(register) -> None:
    register(RapidOcrEngine())

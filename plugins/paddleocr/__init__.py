"""Built-in plugin: the ``paddleocr`` package itself (PaddleOCR 3.x) as an OCR engine.

Needs the ``paddle`` extra (``pip install 'loyalchat[paddle]'``: PaddleOCR and PaddleX).
By default it runs PP-OCRv6 small detection and recognition on PaddleX's ONNX Runtime
engine, with no PaddlePaddle and no download: at first use the model folders PaddleX
expects (``inference.onnx`` + ``inference.yml``) are built from the ONNX files the
rapidocr wheel ships. Missing pieces are reported when the engine reads (as
``OcrUnavailable`` naming what is missing), not at start-up, so the plugin always lists.
Document-orientation, unwarping and text-line orientation models are off: the reading
engine searches the page's orientation itself.

Settings (environment):

- ``LOYALCHAT_PADDLE_MODEL_DIR``: where the default model folders are built (default
  ``<LOYALCHAT_VAR_DIR>/models/paddleocr``). PaddleX's own cache goes in its
  ``paddlex-cache`` subfolder unless ``PADDLE_PDX_CACHE_HOME`` is set.
- ``LOYALCHAT_PADDLE_DET_MODEL_DIR`` / ``LOYALCHAT_PADDLE_REC_MODEL_DIR``: a PaddleOCR
  inference model folder to use instead (``inference.yml`` with ``inference.onnx``, or
  ``inference.json`` + ``inference.pdiparams``), e.g. ``PP-OCRv5_server_det``.
- ``LOYALCHAT_PADDLE_DET_MODEL_NAME`` / ``LOYALCHAT_PADDLE_REC_MODEL_NAME``: the PaddleX
  model name of such a folder (default: the ``Global.model_name`` in its inference.yml).
- ``LOYALCHAT_PADDLE_ENGINE``: ``onnxruntime`` or ``paddle`` (default: ``onnxruntime``
  when both folders hold ``inference.onnx``, else ``paddle``, which needs
  ``pip install paddlepaddle``).
- ``LOYALCHAT_OCR_THREADS`` and ``LOYALCHAT_OCR_DET_LIMIT_SIDE``: as for rapidocr
  (inference threads per read; detection resizes the short side to at least this many
  pixels, default 736).
"""

from __future__ import annotations

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.plugins.paddleocr.engine import PaddleOcrEngine, PaddleOcrSettings

PLUGIN_INFO = PluginInfo(
    title=N_("Receipt reading with PaddleOCR"),
    summary=N_("Reads receipt photos with the PaddleOCR models installed on the server."),
)


__all__ = ["PaddleOcrEngine", "PaddleOcrSettings"]


@hookimpl
def register_ocr_engines(register) -> None:
    register(PaddleOcrEngine())

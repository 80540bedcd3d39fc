"""A QR code as a camera: a Y4M video Chromium plays through its fake capture device.

Chromium run with ``--use-fake-device-for-media-stream`` and
``--use-file-for-fake-video-capture=<file.y4m>`` answers ``getUserMedia`` with that file,
looped, so a page's camera scanner sees exactly what the test drew: here a QR code on a
white page, like a phone screen held up to the till's camera.
"""

from __future__ import annotations

from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image


def camera_args(video: Path) -> list[str]:
    """Chromium switches: grant the camera without asking and play ``video`` as its feed."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


def qr_frame(text: str, width: int = 640, height: int = 480) -> Image.Image:
    """One RGB frame: the QR code of ``text`` centred on white, with a wide quiet zone."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    # Whole pixels per module (no blur), about 60% of the frame's height.
    scale = max(1, int(min(width, height) * 0.6) // code.size[0])
    code = code.resize((code.size[0] * scale, code.size[1] * scale), Image.Resampling.NEAREST)
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(code.convert("RGB"), ((width - code.size[0]) // 2, (height - code.size[1]) // 2))
    return frame


def write_y4m(frame: Image.Image, path: Path, *, frames: int = 15, fps: int = 15) -> Path:
    """Write ``frame`` repeated as a YUV4MPEG2 (4:2:0, full-range JPEG colours) video."""
    width, height = frame.size
    assert width % 2 == 0 and height % 2 == 0, "4:2:0 needs even dimensions"
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (
        y.tobytes()
        + cb.resize(half, Image.Resampling.BILINEAR).tobytes()
        + cr.resize(half, Image.Resampling.BILINEAR).tobytes()
    )
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)
    return path


def qr_video(text: str, path: Path) -> Path:
    """A short looping video of the QR code of ``text``, for :func:`camera_args`."""
    return write_y4m(qr_frame(text), path)

"""QR codes of grants, as SVG (wallet pages) or PNG (chat images); and of links
(:func:`link_svg`: the console shows a member's wallet link for their phone to scan).

Drawn for a grant whose reward type's ``display()`` asks for one (``GrantDisplay.qr``,
the coupon's). The QR encodes ``LCG:<code>`` (:func:`loyalchat.rewards.codes.qr_payload`): the prefix
lets the console's scanner tell a loyalchat grant from any other QR code a cashier
points the camera at; ``codes.normalize`` turns a scanned payload back into the code.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage

from loyalchat.rewards.codes import qr_payload


def _qr(payload: str, box_size: int, border: int) -> qrcode.QRCode:
    # Level M survives a crease or a smudge on a printed or phone-screen code.
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


def qr_svg(code: str, *, box_size: int = 10, border: int = 4) -> str:
    """An SVG document (text) of the grant's QR code; scales without blurring."""
    return _svg(_qr(qr_payload(code), box_size, border))


def link_svg(url: str, *, box_size: int = 10, border: int = 4) -> str:
    """An SVG document of a QR code that opens ``url`` (a phone's camera app follows it)."""
    return _svg(_qr(url, box_size, border))


def _svg(qr: qrcode.QRCode) -> str:
    return qr.make_image(image_factory=SvgPathImage).to_string(encoding="unicode")


def qr_png(code: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """A PNG of the grant's QR code (black on white), for channels that send images."""
    image = _qr(qr_payload(code), box_size, border).make_image(
        fill_color="black", back_color="white"
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

"""What the print files say, independent of how they are drawn.

A kit is printed in two languages: the shop's Chinese script (Traditional for zh-Hant and
English shops, Simplified for zh-Hans ones) and English. Texts are catalogue messages, so
the three-language rule holds; the counter display's share their msgids with the
Channels page's HTML poster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import qrcode
import qrcode.constants

from loyalchat import i18n
from loyalchat.i18n import N_
from loyalchat.texts import in_script

TITLE = N_("Join our membership")
STEPS = {
    "whatsapp": N_("Scan with your phone's camera: WhatsApp opens with a message ready. Send it."),
    "wechat": N_("Scan with WeChat and follow us."),
    "webchat": N_("Scan with your phone's camera to open our chat."),
}
STEPS_OTHER = N_("Scan with your phone to open our chat.")
AFTER = N_("Collect points with every purchase and redeem rewards in the chat.")
STICKER = N_("Scan to join and collect points")
RECEIPT_LINE = N_("Scan, then send us this receipt for points")


def kit_locales(shop_locale: str) -> tuple[str, str]:
    """The Chinese script the shop prints in, then English."""
    return ("zh-Hans" if shop_locale == "zh-Hans" else "zh-Hant", "en")


@dataclass(frozen=True, slots=True)
class KitQr:
    """One channel's join QR: what it encodes and the channel's name per language."""

    kind: str
    label: str  # the adapter's label (a catalogue msgid)
    link: str


@dataclass(frozen=True, slots=True)
class KitContent:
    """Everything a print file shows; hashable, so a rendered file can be cached on it."""

    shop: str  # the shop's display name as typed
    shop_locale: str
    qrs: tuple[KitQr, ...]
    branch: tuple[tuple[str, str], ...] = ()  # the branch name per language, when one
    logo: bytes | None = field(default=None, repr=False)  # none yet: the tenant has no logo

    @property
    def locales(self) -> tuple[str, str]:
        return kit_locales(self.shop_locale)

    def shop_name(self) -> str:
        """The name in the shop's Chinese script (a Latin name unchanged)."""
        return in_script(self.shop, self.locales[0])

    def branch_name(self) -> str:
        """The branch as printed: its Chinese name and English name, or ""."""
        names = dict(self.branch)
        if not names:
            return ""
        zh, en = (names.get(loc, "") for loc in self.locales)
        return " · ".join(dict.fromkeys(n for n in (zh, en) if n))

    def say(self, message: str) -> tuple[str, str]:
        """``message`` in the kit's two languages."""
        return tuple(i18n.translations(loc).gettext(message) for loc in self.locales)  # type: ignore[return-value]

    def step(self, kind: str) -> tuple[str, str]:
        return self.say(STEPS.get(kind, STEPS_OTHER))

    def label(self, qr: KitQr) -> str:
        """The channel's name, Chinese then English when they differ."""
        zh, en = self.say(qr.label)
        return zh if zh == en else f"{zh} {en}"


def qr_matrix(link: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), no quiet zone; level M as the wallet's codes
    (survives a crease or a smudge)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(link)
    code.make(fit=True)
    return code.get_matrix()

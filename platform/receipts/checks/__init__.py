"""Receipt checks: is a receipt that was read this shop's, recent, plausible and a photo?

Each check is a plugin object (``register_receipt_checks``); the first-party ones here
are pure (no database). :func:`first_party_checks` gives them in the order they run;
:func:`~loyalchat.receipts.checks.runner.run_checks` runs any list of checks.
"""

from __future__ import annotations

from loyalchat.receipts.checks.amount import AmountCheck
from loyalchat.receipts.checks.base import ReceiptCheck
from loyalchat.receipts.checks.dates import DateCheck
from loyalchat.receipts.checks.merchant import MerchantCheck
from loyalchat.receipts.checks.screenshot import ScreenshotCheck


def first_party_checks() -> list[ReceiptCheck]:
    """A new instance of each built-in check (they hold no state), in ``order``."""
    return [MerchantCheck(), DateCheck(), AmountCheck(), ScreenshotCheck()]


__all__ = ["AmountCheck", "DateCheck", "MerchantCheck", "ScreenshotCheck", "first_party_checks"]

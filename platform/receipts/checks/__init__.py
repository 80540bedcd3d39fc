"""Receipt checks: is a receipt that was read this shop's, recent, plausible and a photo?

Each check is a plugin object (``register_receipt_checks``). :func:`first_party_checks`
gives the pure ones (no database) in the order they run; :func:`builtin_checks` adds the
two that look at the tenant's other receipts (duplicate, velocity): the built-in
``receipts`` plugin registers those. :func:`~loyalchat.receipts.checks.runner.run_checks`
runs any list of checks.
"""

from __future__ import annotations

from loyalchat.receipts.checks.amount import AmountCheck
from loyalchat.receipts.checks.base import ReceiptCheck
from loyalchat.receipts.checks.dates import DateCheck
from loyalchat.receipts.checks.duplicate import DuplicateCheck
from loyalchat.receipts.checks.merchant import MerchantCheck
from loyalchat.receipts.checks.screenshot import ScreenshotCheck
from loyalchat.receipts.checks.velocity import VelocityCheck


def first_party_checks() -> list[ReceiptCheck]:
    """A new instance of each built-in check (they hold no state), in ``order``."""
    return [MerchantCheck(), DateCheck(), AmountCheck(), ScreenshotCheck()]


def builtin_checks() -> list[ReceiptCheck]:
    """Every check the platform ships, in order: merchant, date, duplicate, amount,
    velocity, screenshot (the cheap ones that can reject run before the slower ones)."""
    every = [*first_party_checks(), DuplicateCheck(), VelocityCheck()]
    return sorted(every, key=lambda check: check.order)


__all__ = [
    "AmountCheck",
    "DateCheck",
    "DuplicateCheck",
    "MerchantCheck",
    "ScreenshotCheck",
    "VelocityCheck",
    "builtin_checks",
    "first_party_checks",
]

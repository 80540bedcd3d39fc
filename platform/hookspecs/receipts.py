"""Hooks for reading and judging receipts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from loyalchat.hookimpl import hookspec

if TYPE_CHECKING:
    from loyalchat.extensions.receipts import ReceiptCheck, ReceiptParser


@hookspec
def register_receipt_parsers(register: Callable[[ReceiptParser], None]) -> None:
    """Called when a receipt is read, to find the parser for the tenant's POS system.

    Call ``register(parser)`` once per POS system or layout. ``parser`` implements
    :class:`loyalchat.extensions.receipts.ReceiptParser`: a unique ``name`` and an async
    ``parse(lines, profile) -> ReceiptFields``. Return nothing.
    """


@hookspec
def register_receipt_checks(register: Callable[[ReceiptCheck], None]) -> None:
    """Called when a read receipt is verified, to gather the checks it must pass.

    Call ``register(check)`` once per check. ``check`` implements
    :class:`loyalchat.extensions.receipts.ReceiptCheck`: a unique ``name`` and an async
    ``check(receipt) -> CheckResult`` (pass, warn or fail with a reason code). Checks
    run in hook call order. Return nothing.
    """

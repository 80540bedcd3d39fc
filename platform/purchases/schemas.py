"""What the purchases service returns: enough for a caller to answer without reading again."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loyalchat.ledger.service import EntryOut
from loyalchat.rules.calculator import Calculation


@dataclass(frozen=True, slots=True)
class PurchaseOut:
    """What a purchase earned. ``replayed`` is True when the key had been used before.

    ``amount`` and ``reference`` are the purchase's as credited (on a replay: the first
    purchase's); ``entry`` is the ledger entry written (or found), None when the purchase
    earned nothing.
    """

    points: int
    balance: int
    entry: EntryOut | None
    calculation: Calculation
    amount: Decimal
    reference: str
    replayed: bool = False

    @property
    def entry_id(self) -> int | None:
        return self.entry.id if self.entry is not None else None

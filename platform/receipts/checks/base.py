"""What a receipt check is and what it answers: the plugin-facing types, and the verdict.

The protocol and its data (``ReceiptCheck``, ``ReceiptFacts``, ``ShopProfile``,
``CheckResult``) live with the hook family in :mod:`loyalchat.extensions.receipts`, so a
plugin imports them from one place; they are re-exported here for the first-party checks.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from loyalchat.extensions.receipts import (
    CheckResult,
    ImageFacts,
    Outcome,
    ReceiptCheck,
    ReceiptFacts,
    ShopProfile,
)

__all__ = [
    "CheckResult",
    "ImageFacts",
    "Outcome",
    "ReceiptCheck",
    "ReceiptFacts",
    "ShopProfile",
    "Summary",
    "Verdict",
    "summarise",
]


class Verdict(enum.StrEnum):
    """What happens to the receipt once every check has answered."""

    credited = "credited"  # every check passed
    needs_review = "needs_review"  # at least one warned, none failed
    rejected = "rejected"  # a check failed: the member is told its reason


@dataclass(frozen=True, slots=True)
class Summary:
    verdict: Verdict
    results: tuple[CheckResult, ...]

    @property
    def reasons(self) -> tuple[CheckResult, ...]:
        """The results that explain the verdict: the failure, or every warning."""
        wanted = Outcome.fail if self.verdict is Verdict.rejected else Outcome.warn
        return tuple(r for r in self.results if r.outcome is wanted)


def summarise(results: Sequence[CheckResult]) -> Summary:
    """Rejected on a failure, needs review on a warning, credited when all passed."""
    outcomes = {r.outcome for r in results}
    if Outcome.fail in outcomes:
        verdict = Verdict.rejected
    elif Outcome.warn in outcomes:
        verdict = Verdict.needs_review
    else:
        verdict = Verdict.credited
    return Summary(verdict, tuple(results))

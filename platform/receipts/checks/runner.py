"""Run a receipt's checks in order and sum them up; a broken check never stops a receipt.

Pure: the caller (the receipt pipeline) chooses the checks (the tenant's enabled ones
from ``register_receipt_checks``) and records the summary.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from loyalchat.receipts.checks.base import (
    CheckResult,
    Outcome,
    ReceiptCheck,
    ReceiptFacts,
    ShopProfile,
    Summary,
    summarise,
)

log = logging.getLogger(__name__)

CHECK_ERROR = "check_error"


def ordered(checks: Iterable[ReceiptCheck]) -> list[ReceiptCheck]:
    """By ``order``; equal orders keep the order given (the plugins' registration order)."""
    return sorted(checks, key=lambda check: check.order)


async def run_checks(
    facts: ReceiptFacts, shop: ShopProfile, checks: Iterable[ReceiptCheck]
) -> list[CheckResult]:
    """Each check's result, in order, stopping after the first failure.

    Later checks cannot save a rejected receipt, so they are not run (a slow database
    check is skipped for another shop's receipt). A check that raises, or answers with
    something that is not a ``CheckResult``, counts as a warning ``check_error``: the
    receipt goes to staff instead of being lost or credited unchecked.
    """
    results: list[CheckResult] = []
    for check in ordered(checks):
        try:
            result = await check.check(facts, shop)
            if not isinstance(result, CheckResult):
                raise TypeError(f"returned {type(result).__name__}, not CheckResult")
        except Exception as error:  # a plugin's bug must not crash the pipeline
            log.exception(
                "receipt check %r failed on receipt %s of tenant %s",
                check.name,
                facts.receipt_id,
                shop.tenant_id,
            )
            result = CheckResult.warning(CHECK_ERROR, f"{type(error).__name__}: {error}")
        results.append(replace(result, check=check.name))
        if result.outcome is Outcome.fail:
            break
    return results


async def judge(facts: ReceiptFacts, shop: ShopProfile, checks: Iterable[ReceiptCheck]) -> Summary:
    """:func:`run_checks` and its verdict."""
    return summarise(await run_checks(facts, shop, checks))

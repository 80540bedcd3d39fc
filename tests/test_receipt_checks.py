"""The first-party receipt checks (merchant, date, amount), the runner and the reasons.

Pure: facts in, results out; what a member would be told is asserted in all three
languages from the committed catalogues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loyalchat.extensions.base import protocol_problems
from loyalchat.extensions.receipts import (
    CheckResult,
    Found,
    Outcome,
    ReceiptCheck,
    ReceiptFacts,
    ReceiptFields,
    ReceiptProfile,
    ShopProfile,
)
from loyalchat.receipts.checks import AmountCheck, DateCheck, MerchantCheck, first_party_checks
from loyalchat.receipts.checks.base import Verdict
from loyalchat.receipts.checks.runner import judge, run_checks
from loyalchat.receipts.checks.texts import reason_text

HK = ZoneInfo("Asia/Hong_Kong")
# 2 Dec 2026, 00:30 at the shop: still 1 Dec in UTC.
RECEIVED = dt.datetime(2026, 12, 2, 0, 30, tzinfo=HK).astimezone(dt.UTC)

SHOP = ShopProfile(
    tenant_id=1,
    receipts=ReceiptProfile(
        merchant_names=("DEMO CAFE", "示範咖啡"),
        amount_range=(Decimal("10.00"), Decimal("800.00")),
        qr_prefix="DEMOPOS:",
    ),
    shop_names=("Demo Café",),
    branches=("Causeway Bay",),
    join_links=("https://wa.me/85290000000?text=JOIN-DEMO",),
    review_limit=Decimal("500.00"),
)


def facts(
    name: str | None = "DEMO CAFE",
    *,
    confidence: float = 0.9,
    candidates: tuple[str, ...] = (),
    qr: tuple[str, ...] = (),
    total: Decimal | None = Decimal("123.40"),
    date: dt.date | None = dt.date(2026, 12, 1),
    date_confidence: float = 0.9,
    issued_at: dt.datetime | None = None,
) -> ReceiptFacts:
    fields = ReceiptFields(
        merchant_name=Found(name, confidence) if name is not None else None,
        merchant_candidates=candidates,
        total=Found(total, 0.95) if total is not None else None,
        date=Found(date, date_confidence) if date is not None else None,
        issued_at=Found(issued_at, date_confidence) if issued_at is not None else None,
    )
    return ReceiptFacts(fields, qr_payloads=qr, received_at=RECEIVED, receipt_id=7, member_id=3)


def test_first_party_checks_implement_the_protocol_in_order() -> None:
    checks = first_party_checks()
    assert [c.name for c in checks] == ["merchant", "date", "amount", "screenshot"]
    assert [c.order for c in checks] == sorted(c.order for c in checks)
    for check in checks:
        assert protocol_problems(check, ReceiptCheck) == []


# Merchant


@pytest.mark.parametrize(
    "printed",
    [
        "DEMO CAFE",
        "Demo Café",
        "demo  cafe.",
        "ＤＥＭＯ　ＣＡＦＥ",
        "示範咖啡",
        "示范咖啡",
        "DEM0 CAFE",
    ],
)
async def test_merchant_accepts_the_shops_names_across_case_scripts_and_ocr_slips(
    printed: str,
) -> None:
    result = await MerchantCheck().check(facts(printed), SHOP)
    assert result.outcome is Outcome.passed, result


async def test_merchant_finds_the_name_inside_a_longer_header_line() -> None:
    result = await MerchantCheck().check(
        facts("Tel 2345 6789", candidates=("DEMO CAFE (CAUSEWAY BAY) LTD",)), SHOP
    )
    assert result.outcome is Outcome.passed


async def test_merchant_rejects_another_shop_clearly_read() -> None:
    result = await MerchantCheck().check(facts("STARBUCKS COFFEE"), SHOP)
    assert (result.outcome, result.reason) == (Outcome.fail, "other_shop")
    assert "STARBUCKS" in result.detail


async def test_a_common_word_alone_does_not_make_another_cafe_this_shop() -> None:
    result = await MerchantCheck().check(facts("PACIFIC CAFE"), SHOP)
    assert result.outcome is Outcome.fail


@pytest.mark.parametrize(
    "payload",
    ["DEMOPOS:R-000123|2026-12-01|123.40", "https://wa.me/85290000000?text=JOIN-DEMO"],
)
async def test_the_shops_qr_code_proves_the_receipt_without_a_name(payload: str) -> None:
    result = await MerchantCheck().check(facts(None, qr=(payload,)), SHOP)
    assert result.outcome is Outcome.passed
    # Even when the header was misread as something else.
    result = await MerchantCheck().check(facts("OEMO GAEE LTD", qr=(payload,)), SHOP)
    assert result.outcome is Outcome.passed


async def test_another_shops_qr_code_proves_nothing() -> None:
    result = await MerchantCheck().check(facts("STARBUCKS", qr=("OTHERPOS:1",)), SHOP)
    assert result.reason == "other_shop"


async def test_merchant_warns_when_nothing_usable_was_read() -> None:
    for unreadable in (facts(None), facts("DE", confidence=0.9), facts("XQ CAF3", confidence=0.3)):
        result = await MerchantCheck().check(unreadable, SHOP)
        assert (result.outcome, result.reason) == (Outcome.warn, "merchant_unread")


# Date


async def test_date_in_the_window_in_the_shops_time_zone_passes() -> None:
    # 2 Dec at the shop though still 1 Dec in UTC: a receipt of 2 Dec is today's.
    for day in (dt.date(2026, 12, 2), dt.date(2026, 11, 25)):
        assert (await DateCheck().check(facts(date=day), SHOP)).outcome is Outcome.passed


async def test_date_older_than_the_window_fails_with_the_window_in_the_message() -> None:
    result = await DateCheck().check(facts(date=dt.date(2026, 11, 24)), SHOP)
    assert (result.outcome, result.reason, result.params) == (Outcome.fail, "too_old", {"days": 7})
    shorter = ShopProfile(tenant_id=1, receipts=SHOP.receipts, window_days=3)
    result = await DateCheck().check(facts(date=dt.date(2026, 11, 28)), shorter)
    assert result.params == {"days": 3}


async def test_a_date_ahead_within_the_clock_slack_passes_beyond_it_fails() -> None:
    ahead = dt.datetime(2026, 12, 2, 23, 0)  # local, naive as the parser gives it
    assert (await DateCheck().check(facts(issued_at=ahead), SHOP)).outcome is Outcome.passed
    result = await DateCheck().check(facts(date=dt.date(2026, 12, 5)), SHOP)
    assert (result.outcome, result.reason) == (Outcome.fail, "future_date")


async def test_no_date_or_an_unsure_bad_date_goes_to_review() -> None:
    result = await DateCheck().check(facts(date=None), SHOP)
    assert (result.outcome, result.reason) == (Outcome.warn, "no_date")
    unsure = facts(date=dt.date(2026, 10, 1), date_confidence=0.3)
    result = await DateCheck().check(unsure, SHOP)
    assert (result.outcome, result.reason) == (Outcome.warn, "too_old")


# Amount


@pytest.mark.parametrize(
    "total, outcome, reason",
    [
        (Decimal("123.40"), Outcome.passed, ""),
        (Decimal("500.00"), Outcome.passed, ""),
        (Decimal("500.01"), Outcome.warn, "amount_over_review_limit"),
        (Decimal("5.00"), Outcome.warn, "amount_out_of_range"),
        (Decimal("0.00"), Outcome.fail, "amount_invalid"),
        (Decimal("-12.00"), Outcome.warn, "refund"),  # money going back: staff decide
        (Decimal("98765432.10"), Outcome.fail, "amount_invalid"),
        (Decimal("NaN"), Outcome.fail, "amount_invalid"),
        (None, Outcome.warn, "no_amount"),
    ],
)
async def test_amount_bounds(total: Decimal | None, outcome: Outcome, reason: str) -> None:
    result = await AmountCheck().check(facts(total=total), SHOP)
    assert (result.outcome, result.reason) == (outcome, reason)


@pytest.mark.parametrize(
    ("line", "held"),
    [
        ("CREDIT NOTE", True),
        ("** REFUND **", True),
        ("VOID", True),
        ("退款單", True),
        ("TAX INVOICE / ADJUSTMENT NOTE\nMUFFIN -9 -11.25", False),  # returns on an invoice
        ("Total Payable:\n-1.73", True),  # ... but less than nothing to pay: a return
        ("合計 -88.00", True),
        ("REFUND NO.: R0012", True),
        ("Non-refundable deposit", False),
        ("GOODS SOLD ARE NOT RETURNABLE", False),
        ("NO REFUND", False),
        ("GOODS SOLD ARE NOT REFUNDABLE OR EXCHANGEABLE", False),
        ("NO EXCHANGE, NO REFUND", False),
        ("貨物出門，恕不退款", False),
        ("AVOID PARKING AT THE DOOR", False),
    ],
)
async def test_a_refund_void_or_credit_note_goes_to_staff(line: str, held: bool) -> None:
    printed = replace(facts(), lines=("DEMO CAFE", *line.split("\n"), "TOTAL 123.40"))
    result = await AmountCheck().check(printed, SHOP)
    assert (result.outcome, result.reason) == (
        (Outcome.warn, "refund") if held else (Outcome.passed, "")
    )


async def test_a_refund_the_reader_reported_goes_to_staff() -> None:
    fields = replace(facts().fields, warnings=("refund",))
    result = await AmountCheck().check(replace(facts(), fields=fields), SHOP)
    assert (result.outcome, result.reason) == (Outcome.warn, "refund")


async def test_over_the_review_limit_names_the_limit_in_money() -> None:
    result = await AmountCheck().check(facts(total=Decimal("1200.00")), SHOP)
    assert reason_text(result, "en") == "Receipts over HK$500.00 are checked by the shop."


# Runner


class Fixed:
    def __init__(self, name: str, order: int, result: CheckResult | Exception) -> None:
        self.name, self.label, self.order, self.result, self.calls = name, name, order, result, 0

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_runner_runs_by_order_and_credits_when_all_pass() -> None:
    late, early = Fixed("late", 20, CheckResult.ok()), Fixed("early", 10, CheckResult.ok())
    results = await run_checks(facts(), SHOP, [late, early])
    assert [r.check for r in results] == ["early", "late"]
    assert (await judge(facts(), SHOP, [late, early])).verdict is Verdict.credited


async def test_runner_stops_at_the_first_failure_and_rejects() -> None:
    warn = Fixed("warn", 1, CheckResult.warning("screenshot"))
    fail = Fixed("fail", 2, CheckResult.failure("too_old", days=7))
    after = Fixed("after", 3, CheckResult.ok())
    summary = await judge(facts(), SHOP, [after, fail, warn])
    assert summary.verdict is Verdict.rejected
    assert [r.reason for r in summary.reasons] == ["too_old"]
    assert after.calls == 0


async def test_a_warning_sends_to_review() -> None:
    summary = await judge(facts(), SHOP, [Fixed("w", 1, CheckResult.warning("edited"))])
    assert summary.verdict is Verdict.needs_review


async def test_a_check_that_raises_is_a_warning_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = Fixed("broken", 1, RuntimeError("database down"))
    summary = await judge(facts(), SHOP, [broken, Fixed("ok", 2, CheckResult.ok())])
    assert summary.verdict is Verdict.needs_review
    assert [(r.check, r.reason) for r in summary.reasons] == [("broken", "check_error")]
    assert "database down" in summary.reasons[0].detail
    assert "broken" in caplog.text


async def test_the_demo_receipt_is_credited_by_the_first_party_checks() -> None:
    summary = await judge(facts(), SHOP, first_party_checks())
    assert summary.verdict is Verdict.credited, summary.results


# Member-facing reasons


@pytest.mark.parametrize(
    "locale, old, other",
    [
        ("en", "This receipt is older than 7 days.", "This receipt is from another shop."),
        ("zh-Hant", "這張收據已超過 7 日。", "這張收據來自其他商店。"),
        ("zh-Hans", "这张收据已超过 7 天。", "这张收据来自其他商店。"),
    ],
)
def test_reasons_in_the_members_language(locale: str, old: str, other: str) -> None:
    assert reason_text(CheckResult.failure("too_old", days=7), locale) == old
    assert reason_text(CheckResult.failure("other_shop"), locale) == other


def test_an_unknown_code_or_missing_param_still_gives_a_sentence() -> None:
    assert (
        reason_text(CheckResult.failure("plugin_code"), "en") == "This receipt cannot be accepted."
    )
    assert (
        reason_text(CheckResult.warning("plugin_code"), "en") == "The shop will check this receipt."
    )
    assert reason_text(CheckResult.failure("too_old"), "en") == "This receipt cannot be accepted."


async def test_a_join_link_proves_its_branches_not_a_shop_whose_link_starts_alike() -> None:
    branch = await MerchantCheck().check(
        facts(None, qr=("https://wa.me/85290000000?text=JOIN-DEMO%23b1",)), SHOP
    )
    assert branch.outcome is Outcome.passed
    alike = await MerchantCheck().check(
        facts("STARBUCKS", qr=("https://wa.me/85290000000?text=JOIN-DEMO2",)), SHOP
    )
    assert alike.reason == "other_shop"

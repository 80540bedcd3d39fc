"""From a stored photo to points credited, or a clear reason why not: :func:`process`.

One receipt, one run at a time: the run takes the row with one conditional UPDATE
(``received`` -> ``reading``, attempts + 1; or a row left ``reading``/``checking`` longer
than ``sweep_after_seconds`` by a killed worker), and every later write applies only while
the row is still in the status this run put it in. A final or waiting receipt
(``credited``, ``rejected``, ``needs_review``, ``awaiting_member``) is left alone, so the
actor may run twice, or a lost message be re-sent by the sweeper, without a second credit.

The steps: read the photo with the tenant's engine and profile (:mod:`.readout`), write
what was read (``checking``), run the checks in order (the built-in ones and the enabled
plugins', :func:`checks_for`), then decide:

- a failed check: ``rejected``, the member told the reason in their language;
- a check that warned, a total that could not be read, no member: ``needs_review``, the
  member told the shop will check within ``review_hours``;
- a total read less surely than ``confirm_below``: ``awaiting_member``, the bot asks the
  member to confirm it (:func:`loyalchat.receipts.review.member_answer` reads the answer);
- otherwise credited through the earning rules (:mod:`.credit`), the member told the
  points, the balance and the rewards they can now redeem.

A suspended shop or a reached quota keeps the receipt for review, unread.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pluggy

from loyalchat.conversations import state
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.receipts import (
    CheckResult,
    ImageFacts,
    ReceiptCheck,
    ReceiptFacts,
    ReceiptFields,
    ShopProfile,
    get_receipt_checks,
)
from loyalchat.media import store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts import replies
from loyalchat.receipts.checks import builtin_checks
from loyalchat.receipts.checks.base import Verdict
from loyalchat.receipts.checks.duplicate import receipt_number
from loyalchat.receipts.checks.runner import judge
from loyalchat.receipts.checks.screenshot import image_facts
from loyalchat.receipts.credit import Duplicate, Moved, credit
from loyalchat.receipts.fingerprint import fingerprint
from loyalchat.receipts.reading.image import ImageRejected
from loyalchat.receipts.reading.ocr import OcrUnavailable
from loyalchat.receipts.reading.reader import ReceiptReading, UnknownEngine
from loyalchat.receipts.readout import fields_json, read_photo
from loyalchat.receipts.service import ReceiptOut, get_receipt
from loyalchat.receipts.settings import ReceiptRules, get_receipt_settings
from loyalchat.receipts.shop import claim_keys, join_links, shop_profile
from loyalchat.receipts.tables import Receipt, ReceiptStatus
from loyalchat.scoping import scoped_update
from loyalchat.settings import get_settings
from loyalchat.tenants import plugin_access
from loyalchat.tenants.service import TenantInfo, current_tenant

__all__ = ["MAX_ATTEMPTS", "checks_for", "process", "quota_reached"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # runs that failed with an error before the receipt goes to staff
RECEIPTS_PLUGIN = "receipts"  # the built-in plugin registering builtin_checks()
S = ReceiptStatus


async def quota_reached(receipt_id: int) -> bool:
    """Whether receipt ``receipt_id`` is past the receipts the shop's plan allows this
    month (billing counts them from the receipt table). A receipt over the quota is kept
    and goes to review with reason ``quota_reached``, never dropped.
    """
    from loyalchat.billing.service import receipt_over_quota
    from loyalchat.context import require_tenant

    return await receipt_over_quota(require_tenant(), receipt_id)


async def checks_for(pm: pluggy.PluginManager) -> list[ReceiptCheck]:
    """The built-in checks (always: a shop cannot credit receipts unchecked), then every
    check of the plugins the current tenant uses; the runner orders them by ``order``."""
    builtin = builtin_checks()
    names = {check.name for check in builtin}
    registry = get_receipt_checks(pm)
    enabled = await plugin_access.enabled_plugins(pm)
    extra = [
        check
        for name, check in registry.items()
        if name not in names and registry.owner(name) in enabled
    ]
    return [*builtin, *extra]


async def _claim(receipt_id: int) -> dict[str, Any] | None:
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=get_settings().sweep_after_seconds)
    claimable = (Receipt.status == S.received.value) | (
        Receipt.status.is_in([S.reading.value, S.checking.value]) & (Receipt.updated_at < stale)
    )
    taken = (
        await scoped_update(
            Receipt,
            {
                Receipt.status: S.reading.value,
                Receipt.attempts: Receipt.attempts + 1,
                Receipt.updated_at: now,
            },
            use_auto_update=False,
        )
        .where((Receipt.id == receipt_id) & claimable)
        .returning(*Receipt.all_columns())
    )
    return taken[0] if taken else None


async def _move(receipt_id: int, held: str, values: dict[Any, Any]) -> bool:
    """Write ``values`` while the row is still ``held`` by this run; False when not."""
    values = {**values, Receipt.updated_at: datetime.now(UTC)}
    moved = (
        await scoped_update(Receipt, values, use_auto_update=False)
        .where((Receipt.id == receipt_id) & (Receipt.status == held))
        .returning(Receipt.id)
    )
    return bool(moved)


def _checks_json(results: tuple[CheckResult, ...] | list[CheckResult]) -> list[dict[str, Any]]:
    return [
        {
            "check": r.check,
            "outcome": r.outcome.value,
            "reason": r.reason,
            "detail": r.detail[:500],
            "params": {
                k: v if isinstance(v, int | float | bool) else str(v) for k, v in r.params.items()
            },
        }
        for r in results
    ]


async def process(
    receipt_id: int, *, reading: ReceiptReading | None = None, now: datetime | None = None
) -> ReceiptOut:
    """Take receipt ``receipt_id`` of the current tenant through the pipeline (see the
    module docstring) and return it as it is now. ``reading``: what was read, when the
    caller already has it (tests, a benchmark); ``now``: the moment the checks judge the
    receipt at (default: when it was received). ``NotFound`` for an id that is not the
    current tenant's. Safe to call twice, also at the same time: one run does the work.
    """
    row = await _claim(receipt_id)
    if row is None:
        current = await get_receipt(receipt_id)
        if current.status != S.received.value:
            return current
        # Stored by a transaction that committed between the claim and the read.
        row = await _claim(receipt_id)
        if row is None:
            return await get_receipt(receipt_id)
    try:
        await _work(row, reading, now)
    except Exception:
        await _after_error(row)
        raise
    return await get_receipt(receipt_id)


async def _after_error(row: dict[str, Any]) -> None:
    """A run that failed gives the row back for the retry, or to staff after
    :data:`MAX_ATTEMPTS` runs."""
    held = [S.reading.value, S.checking.value]
    if row["attempts"] >= MAX_ATTEMPTS:
        values = {Receipt.status: S.needs_review.value, Receipt.reasons: ["processing_failed"]}
    else:
        values = {Receipt.status: S.received.value}
    await scoped_update(
        Receipt, {**values, Receipt.updated_at: datetime.now(UTC)}, use_auto_update=False
    ).where((Receipt.id == row["id"]) & Receipt.status.is_in(held))


async def _work(row: dict[str, Any], reading: ReceiptReading | None, now: datetime | None) -> None:
    receipt_id = row["id"]
    shop = await current_tenant()
    rules = await get_receipt_settings()
    who = await replies.audience(row["conversation"], row["member"])
    if not shop.is_active:
        # The bot already told the member the programme is paused.
        await _to_review(receipt_id, S.reading.value, ["shop_paused"], who, rules, tell=False)
        return
    if await quota_reached(receipt_id):
        await _to_review(receipt_id, S.reading.value, ["quota_reached"], who, rules)
        return
    try:
        data = await store.read(row["media_key"])
    except NotFound:
        await _to_review(receipt_id, S.reading.value, ["photo_missing"], who, rules)
        return
    pm = current_plugin_manager()
    facts_of_file = await asyncio.to_thread(image_facts, data)
    # The fingerprint is worked out while the photo is read: a lone photo's reply comes
    # sooner, and in a burst the cores are busy either way.
    phash, read = await asyncio.gather(
        asyncio.to_thread(_perceptual, data),
        _read(data, reading, rules, pm),
        return_exceptions=True,
    )
    if isinstance(phash, BaseException):
        raise phash
    if isinstance(read, BaseException):
        exc = read
        if not isinstance(exc, _UNREADABLE):
            raise exc
        log.warning("receipt %s could not be read: %s", receipt_id, exc)
        values = {Receipt.phash: phash, Receipt.fields: {"error": str(exc)[:500]}}
        await _to_review(receipt_id, S.reading.value, ["unreadable"], who, rules, values)
        return
    reading = read
    f = reading.fields
    values = {
        Receipt.status: S.checking.value,
        Receipt.phash: phash,
        Receipt.fields: await fields_json(reading, rules.profile),
        Receipt.merchant: (f.merchant_name.value if f.merchant_name else "")[:200],
        Receipt.receipt_no: receipt_number(f.receipt_number.value if f.receipt_number else ""),
        Receipt.receipt_date: f.date.value if f.date else None,
        Receipt.total: f.total.value if f.total else None,
        Receipt.total_confidence: float(f.total.confidence) if f.total else 0.0,
    }
    if not await _move(receipt_id, S.reading.value, values):
        return  # the sweeper gave the row to another run meanwhile
    profile = shop_profile(shop, rules, await join_links(shop))
    facts = ReceiptFacts(
        f,
        qr_payloads=reading.qr,
        image=_with_phash(facts_of_file, phash),
        received_at=now or row["created_at"],
        receipt_id=receipt_id,
        member_id=row["member"],
        lines=tuple(line.text for line in reading.ocr.lines),
    )
    summary = await judge(facts, profile, await checks_for(pm))
    await _decide(row, shop, rules, who, f, summary.verdict, list(summary.results), profile)


_UNREADABLE = (ImageRejected, OcrUnavailable, UnknownEngine, plugin_access.PluginDisabled)


async def _read(
    data: bytes, reading: ReceiptReading | None, rules: ReceiptRules, pm: pluggy.PluginManager
) -> ReceiptReading:
    return reading or await read_photo(data, rules.profile, pm)


def _perceptual(data: bytes) -> str:
    try:
        return fingerprint(data).perceptual
    except ImageRejected:
        return ""


def _with_phash(facts: ImageFacts, phash: str) -> ImageFacts:
    return replace(facts, phash=phash)


async def _decide(
    row: dict[str, Any],
    shop: TenantInfo,
    rules: ReceiptRules,
    who: replies.Audience,
    f: ReceiptFields,
    verdict: Verdict,
    results: list[CheckResult],
    profile: ShopProfile,
) -> None:
    receipt_id, member_id = row["id"], row["member"]
    checks = _checks_json(results)
    held = S.checking.value
    if verdict is Verdict.rejected:
        failed = next(r for r in results if r.outcome.value == "fail")
        await _reject(receipt_id, held, failed, who, checks)
        return
    warned = [r.reason for r in results if r.outcome.value == "warn"]
    if member_id is None:
        await _to_review(
            receipt_id, held, ["no_member", *warned], who, rules, {Receipt.checks: checks}
        )
        return
    if f.total is None:
        reasons = ["unreadable", *(r for r in warned if r != "no_amount")]
        await _to_review(receipt_id, held, reasons, who, rules, {Receipt.checks: checks})
        return
    if verdict is Verdict.needs_review:
        await _to_review(receipt_id, held, warned, who, rules, {Receipt.checks: checks})
        return
    if f.total.confidence < rules.confirm_below and row["conversation"] is not None:
        await _ask(row, rules, who, f, checks)
        return
    keys = claim_keys(
        sha256=row["sha256"],
        merchant=f.merchant_name.value if f.merchant_name else "",
        receipt_no=f.receipt_number.value if f.receipt_number else "",
        on=f.date.value if f.date else None,
        total=f.total.value,
        names=profile.names,
    )
    try:
        result = await credit(
            receipt_id,
            held=held,
            member_id=member_id,
            amount=f.total.value,
            on=f.date.value if f.date else None,
            keys=keys,
            values={Receipt.checks: checks, Receipt.reasons: []},
        )
    except Moved:
        return
    except DomainError as exc:
        await _to_review(receipt_id, held, [exc.code], who, rules, {Receipt.checks: checks})
        return
    if isinstance(result, Duplicate):
        used = result.used_on.isoformat() if result.used_on else ""
        failed = CheckResult.failure(
            "duplicate", f"claim {result.key!r} held by receipt {result.other_id}", date=used
        )
        failed = replace(failed, check="duplicate")
        await _reject(receipt_id, held, failed, who, [*checks, *_checks_json([failed])])
        return
    text = await replies.credited_text(who, result.amount, result.points, result.balance)
    await replies.tell(who, text, key=f"receipt:{receipt_id}:credited")


async def _reject(
    receipt_id: int,
    held: str,
    failed: CheckResult,
    who: replies.Audience,
    checks: list[dict[str, Any]],
) -> None:
    values = {
        Receipt.status: S.rejected.value,
        Receipt.reasons: [failed.reason],
        Receipt.checks: checks,
        Receipt.decided_at: datetime.now(UTC),
    }
    if await _move(receipt_id, held, values):
        text = who.say(replies.REJECTED, reason=replies.reason_line(failed, who.locale))
        await replies.tell(who, text, key=f"receipt:{receipt_id}:rejected")


async def _to_review(
    receipt_id: int,
    held: str,
    reasons: list[str],
    who: replies.Audience,
    rules: ReceiptRules,
    values: dict[Any, Any] | None = None,
    *,
    tell: bool = True,
) -> None:
    reasons = list(dict.fromkeys(reason for reason in reasons if reason)) or ["review"]
    moved = await _move(
        receipt_id,
        held,
        {**(values or {}), Receipt.status: S.needs_review.value, Receipt.reasons: reasons},
    )
    if moved and tell:
        text = who.say(replies.IN_REVIEW, hours=rules.review_hours)
        await replies.tell(who, text, key=f"receipt:{receipt_id}:review")


async def _ask(
    row: dict[str, Any],
    rules: ReceiptRules,
    who: replies.Audience,
    f: ReceiptFields,
    checks: list[dict[str, Any]],
) -> None:
    receipt_id = row["id"]
    ttl = timedelta(hours=rules.ask_hours)
    values = {
        Receipt.status: S.awaiting_member.value,
        Receipt.reasons: ["confirm_total"],
        Receipt.checks: checks,
        Receipt.ask_expires_at: datetime.now(UTC) + ttl,
    }
    if not await _move(receipt_id, S.checking.value, values):
        return
    conversation = await state.get_conversation(row["conversation"])
    step = {"step": "receipt_amount", "receipt": receipt_id}
    await state.set_state(conversation, step, event_id=0, ttl=ttl)
    total = f.total.value if f.total else row["total"]
    text = replies.ask_text(who, total, f.date.value if f.date else None)
    await replies.tell(who, text, key=f"receipt:{receipt_id}:ask")

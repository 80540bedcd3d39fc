"""What a member is told about their receipt, in their language, and how it reaches them.

Texts are marked for the Babel catalogues (``platform/locale``). :func:`tell` puts a
message in the outbox of the receipt's conversation (``conversations.staff.queue_reply``,
``sent_by="bot"``) under a key per receipt and outcome, so telling twice sends once; a
channel whose window has closed keeps the outcome and sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date

from loyalchat import i18n
from loyalchat.bot import language
from loyalchat.conversations import staff, state
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.receipts import CheckResult
from loyalchat.i18n import N_
from loyalchat.members import service as members
from loyalchat.receipts.checks.texts import REASONS, reason_text
from loyalchat.rewards import service as rewards
from loyalchat.tenants.service import current_tenant
from loyalchat.texts import in_script, normalize_locale, pick

log = logging.getLogger(__name__)

CREDITED = N_(
    "Thanks! Your receipt of %(amount)s earned %(points)s points. "
    "Your balance is now %(balance)s points."
)
CREDITED_NOTHING = N_(
    "Thanks! Your receipt of %(amount)s is recorded, but it earns no more points today. "
    "Your balance is %(balance)s points."
)
CAN_REDEEM = N_('You can now redeem: %(rewards)s. Send "rewards" to choose.')
REJECTED = N_("Sorry, we cannot give points for this receipt. %(reason)s")
IN_REVIEW = N_("Thanks, we received your receipt. The shop will check it within %(hours)s hours.")
ASK_TOTAL = N_(
    "We read %(amount)s on your %(shop)s receipt of %(date)s. "
    "Reply 1 to confirm or type the right amount."
)
ASK_TOTAL_NO_DATE = N_(
    "We read %(amount)s on your %(shop)s receipt. Reply 1 to confirm or type the right amount."
)
ASK_AGAIN = N_("Please reply 1 to confirm %(amount)s, or type the right amount, like 123.40.")
AMOUNT_TO_REVIEW = N_(
    "Thanks. You said %(amount)s: the shop will check your receipt within %(hours)s hours."
)
CLEARER_PHOTO = N_(
    "The shop could not read your receipt clearly. Please send a clearer photo of the whole "
    "receipt, flat and in good light."
)
DUPLICATE = REASONS["duplicate"]
MAX_REWARDS_LISTED = 3

_SYMBOLS = {"HKD": "HK$", "CNY": "¥", "TWD": "NT$", "USD": "US$", "MOP": "MOP$"}


def money(amount: Decimal, currency: str) -> str:
    """``HK$1,234.50``; other currencies by code."""
    prefix = _SYMBOLS.get(currency or "HKD", f"{currency} ")
    return f"{prefix}{amount.quantize(Decimal('0.01')):,}"


def day(value: date, locale: str) -> str:
    """A date as the member reads it: "1 Dec 2026", "2026年12月1日"."""
    return format_date(value, "medium", locale=i18n.babel_locale(locale))


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is told, and how: the receipt's conversation, the member, their language."""

    conversation_id: int | None
    member_id: int | None
    locale: str
    shop_name: str
    currency: str

    def say(self, message: str, **variables: Any) -> str:
        return i18n.say(self.locale, message, **variables)


async def audience(conversation_id: int | None, member_id: int | None) -> Audience:
    """The member's language: the conversation's, the member's, else the shop's."""
    shop = await current_tenant()
    member_locale = ""
    if member_id is not None:
        try:
            member_locale = (await members.get_member_by_id(member_id)).locale
        except NotFound:
            member_id = None
    locale = normalize_locale(member_locale or shop.locale)
    if conversation_id is not None:
        try:
            conversation = await state.get_conversation(conversation_id)
            locale = language.current(conversation, member_locale, shop.locale)
        except NotFound:
            conversation_id = None
    return Audience(
        conversation_id,
        member_id,
        locale,
        in_script(shop.display_name, locale),
        shop.currency,
    )


def reason_line(result: CheckResult, locale: str) -> str:
    """A check's reason for the member; an ISO ``date`` parameter shown in their language."""
    params = dict(result.params)
    raw = params.get("date")
    if isinstance(raw, str) and raw:
        try:
            params["date"] = day(date.fromisoformat(raw), locale)
        except ValueError:
            pass
    return reason_text(CheckResult(result.outcome, result.reason, result.detail, params), locale)


async def redeemable(balance: int, locale: str) -> list[str]:
    """Names of the rewards a member with ``balance`` points can redeem now (cheapest first)."""
    now = datetime.now(UTC)
    found = await rewards.list_rewards(available_at=now, limit=100)
    usable = [r for r in found.items if r.available(now) and r.points_cost <= balance]
    usable.sort(key=lambda reward: reward.points_cost)
    return [pick(reward.name, locale) for reward in usable[:MAX_REWARDS_LISTED]]


async def credited_text(who: Audience, amount: Decimal, points: int, balance: int) -> str:
    shown = money(amount, who.currency)
    if points <= 0:
        return who.say(CREDITED_NOTHING, amount=shown, balance=f"{balance:,}")
    text = who.say(CREDITED, amount=shown, points=f"{points:,}", balance=f"{balance:,}")
    names = await redeemable(balance, who.locale)
    if names:
        text += "\n" + who.say(CAN_REDEEM, rewards=", ".join(names))
    return text


def ask_text(who: Audience, total: Decimal, on: date | None) -> str:
    shown = money(total, who.currency)
    if on is None:
        return who.say(ASK_TOTAL_NO_DATE, amount=shown, shop=who.shop_name)
    return who.say(ASK_TOTAL, amount=shown, shop=who.shop_name, date=day(on, who.locale))


async def tell(who: Audience, text: str, *, key: str) -> bool:
    """Queue ``text`` to the receipt's conversation; False when it cannot go (no
    conversation, the channel's window closed): the receipt's outcome stands anyway."""
    if who.conversation_id is None:
        return False
    try:
        await staff.queue_reply(who.conversation_id, text, key=key, sent_by="bot")
    except staff.WindowClosed:
        log.info("receipt reply %s not sent: the channel's window is closed", key)
        return False
    except DomainError as exc:
        log.warning("receipt reply %s not sent: %s", key, exc)
        return False
    return True

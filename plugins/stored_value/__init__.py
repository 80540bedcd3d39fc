"""Built-in plugin: the ``stored_value`` reward type (points exchanged for 會員卡金額).

Issuing the grant credits the member's stored-value balance at once, inside the
redemption's transaction (``ledger.stored_value.credit`` under the key ``grant:<grant id>``, so
a retried issue credits once). There is nothing left to hand over at the till, so the
grant is consumed on issue: the host records it as ``used`` straight away
(``consumed_on_issue``), and voiding it is refused like any used grant. Staff who must
undo one adjust the stored value and the points by hand.

Option per reward: ``amount``, the sum credited (a positive amount with at most two
decimal places, in the tenant currency).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from loyalchat.domain import DomainError
from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.extensions.rewards import Grant, GrantDisplay, Issued, RewardError
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.ledger import stored_value
from loyalchat.ledger.tables import ValueKind
from loyalchat.rewards import text

# The shape of an amount (ASCII digits, an optional decimal part); stored_value.money() then
# checks its range and its two decimal places.
PLUGIN_INFO = PluginInfo(
    title=N_("Stored value"),
    summary=N_("Rewards that add money to a member's stored-value balance, to spend at the till."),
)


_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,12})?")


_LINE = {
    "zh-Hant": "會員卡金額 {amount}",
    "zh-Hans": "会员卡余额 {amount}",
    "en": "Stored value {amount}",
}


class StoredValueReward:
    """Credits a sum to the member's stored-value balance when redeemed."""

    kind = "stored_value"
    label = N_("Stored value")
    option_fields = (
        SettingField(
            "amount",
            N_("Amount credited"),
            required=True,
            help=N_("Added to the member's stored value, e.g. 50.00."),
            invalid=N_("Enter an amount such as 50.00."),
        ),
    )
    # The rewards service marks the grant used the moment it is issued.
    consumed_on_issue = True

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``amount`` as a canonical two-decimal string; ``ValueError`` when it is not one."""
        raw = options.get("amount", "")
        # Plain ASCII decimals, as the API's parse_money takes them: Decimal() alone would
        # also read "1e3", "1_000" and "+50".
        if isinstance(raw, str) and not _AMOUNT.fullmatch(raw.strip()):
            raise ValueError(f"amount: not an amount such as 50.00: {raw!r}")
        try:
            amount = stored_value.money(raw)
        except (DomainError, TypeError) as exc:
            raise ValueError(f"amount: {exc}") from exc
        return {**options, "amount": str(amount)}

    async def issue(self, grant: Grant) -> Issued:
        try:
            amount = stored_value.money(grant.options.get("amount", ""))
        except (DomainError, TypeError) as exc:
            raise RewardError(f"this reward has no valid amount: {exc}") from exc
        entry = await stored_value.credit(
            grant.member_id,
            amount,
            key=f"grant:{grant.grant_id}",
            kind=ValueKind.grant,
            reference=f"grant:{grant.grant_id}",
        )
        return Issued(
            code="",
            data={"amount": str(amount), "balance_after": str(entry.balance_after)},
        )

    async def describe(self, grant: Grant, locale: str) -> str:
        amount = Decimal(str(grant.data.get("amount") or grant.options.get("amount") or "0"))
        return _LINE[text.normalize_locale(locale)].format(amount=f"{amount:,.2f}")

    async def mark_used(self, grant: Grant) -> None:
        # Never reached for a grant the host marked used at issue; refuse if it is.
        raise RewardError("stored value was credited when the reward was redeemed")

    async def display(self, grant: Grant, locale: str) -> GrantDisplay:
        # Nothing to show at the till: the code is only a reference, never a QR code.
        return GrantDisplay(code=grant.code, qr=False)


@hookimpl
def register_reward_types(register) -> None:
    register(StoredValueReward())

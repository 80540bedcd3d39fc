"""Built-in plugin: the ``coupon`` reward type (a discount or a free item, shown at the till).

A coupon grant's code is the host's: 8 characters from an unambiguous alphabet, unique
per tenant (:mod:`loyalchat.rewards.codes`). :meth:`CouponReward.display` asks the wallet
to show it with its QR code (:mod:`loyalchat.rewards.qr`, which encodes ``LCG:<code>``);
the cashier scans it (or types the code) and the host marks the grant used, once.

Options per reward: ``benefit`` (what the member gets, e.g. "HK$20 off") and ``terms``,
each ``{zh-Hant, zh-Hans, en}`` (:mod:`loyalchat.rewards.text`); a plain string, from a
reward saved before options had three languages or from an API caller, is shown as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.extensions.rewards import Grant, GrantDisplay, Issued
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.rewards import text

PLUGIN_INFO = PluginInfo(
    title=N_("Coupons"),
    summary=N_(
        "Rewards members show at the till for a discount or a free item: the cashier scans the QR code or types the code."
    ),
)


__all__ = ["CouponReward"]


_PREFIX = {"zh-Hant": "優惠券：", "zh-Hans": "优惠券：", "en": "Coupon: "}
_TERMS = {"zh-Hant": "（{terms}）", "zh-Hans": "（{terms}）", "en": " ({terms})"}


class CouponReward:
    """A code the member shows at the till for a discount or a free item."""

    kind = "coupon"
    label = N_("Coupon")
    consumed_on_issue = False
    option_fields = (
        SettingField(
            "benefit",
            N_("Benefit (e.g. HK$20 off, free coffee)"),
            required=True,
            help=N_("What the member gets when the cashier accepts the coupon."),
            localized=True,
        ),
        SettingField(
            "terms", N_("Terms"), help=N_("Conditions printed under the coupon."), localized=True
        ),
    )

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        return options  # the host's checks of option_fields are all a coupon needs

    async def issue(self, grant: Grant) -> Issued:
        # An empty code: the host's unambiguous code is the coupon code.
        return Issued(
            code="",
            data={
                "benefit": _text(grant.options.get("benefit")),
                "terms": _text(grant.options.get("terms")),
            },
        )

    async def describe(self, grant: Grant, locale: str) -> str:
        locale = text.normalize_locale(locale)
        benefit = _text(grant.data.get("benefit")) or _text(grant.options.get("benefit"))
        terms = _text(grant.data.get("terms")) or _text(grant.options.get("terms"))
        line = _PREFIX[locale] + text.pick(benefit, locale)
        if not text.is_blank(terms):
            line += _TERMS[locale].format(terms=text.pick(terms, locale))
        return line

    async def mark_used(self, grant: Grant) -> None:
        return None  # nothing beyond the host's atomic status change

    async def display(self, grant: Grant, locale: str) -> GrantDisplay:
        return GrantDisplay(code=grant.code, qr=True)  # scanned (or typed) at the till


def _text(value: Any) -> dict[str, str] | str:
    """An option as stored: ``{zh-Hant, zh-Hans, en}``, or a string saved before that."""
    if isinstance(value, Mapping):
        return {str(key): str(val or "") for key, val in value.items()}
    return "" if value is None else str(value)


@hookimpl
def register_reward_types(register) -> None:
    register(CouponReward())

"""What the member is told about a receipt check, by reason code, in their language.

Marked for the Babel catalogues (``platform/locale``) like the bot's own texts; the
placeholders are the ``params`` of the ``CheckResult`` that carries the code.
"""

from __future__ import annotations

from loyalchat import i18n
from loyalchat.extensions.receipts import CheckResult, Outcome
from loyalchat.i18n import N_

REASONS: dict[str, str] = {
    "other_shop": N_("This receipt is from another shop."),
    "merchant_unread": N_("We could not read the shop's name on this receipt."),
    "too_old": N_("This receipt is older than %(days)s days."),
    "future_date": N_("The date on this receipt is in the future."),
    "no_date": N_("We could not read the date on this receipt."),
    "no_amount": N_("We could not read the total on this receipt."),
    "amount_invalid": N_("The total on this receipt cannot be right."),
    "amount_out_of_range": N_("The total on this receipt is unusual for this shop."),
    "amount_over_review_limit": N_("Receipts over %(limit)s are checked by the shop."),
    "screenshot": N_("This looks like a screenshot. Please send a photo of the paper receipt."),
    "edited": N_("This photo seems to have been edited. Please send the original photo."),
    "duplicate": N_("This receipt was already used on %(date)s."),
}
# When a code has no text of its own (a plugin's), by outcome.
UNDER_REVIEW = N_("The shop will check this receipt.")
NOT_ACCEPTED = N_("This receipt cannot be accepted.")
# Not a member's fault (a check failed to run): the member is told it is being checked.
REASONS["check_error"] = UNDER_REVIEW
# Hints for staff (a photo like another one, a burst of receipts): the member is only told
# the receipt is being checked.
REASONS["looks_alike"] = UNDER_REVIEW
REASONS["velocity"] = UNDER_REVIEW
REASONS["refund"] = UNDER_REVIEW  # a refund or void: staff decide, nothing to explain


def reason_text(result: CheckResult, locale: str) -> str:
    """The member's line for ``result`` in ``locale`` (zh-Hant, zh-Hans, en)."""
    fallback = NOT_ACCEPTED if result.outcome is Outcome.fail else UNDER_REVIEW
    try:
        text = i18n.say(locale, REASONS.get(result.reason, fallback), **dict(result.params))
    except (KeyError, TypeError, ValueError):
        text = "%("
    # A param missing (or none given for a text that needs one): say it without the figure.
    return text if "%(" not in text else i18n.say(locale, fallback)

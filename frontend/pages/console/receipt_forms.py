"""Reading the review page's decision forms: the amount to credit, the receipt's date and
the staff note, each problem kept for the form's error summary (``form_fields.Collect``);
and the review service's refusals in the console's words.

Money is read as ``Decimal`` (``form_fields.amount``: "abc", "1e9", "-5" and full-width
digits are refused) and kept below what the amount check calls absurd, so the service's
own refusal is never the first a cashier sees.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from loyalchat.bounds import is_storable
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.i18n import N_
from loyalchat.receipts import queue
from loyalchat.receipts.checks.amount import ABSURD

MAX_NOTE = 500
# What the amount check calls absurd (and review refuses): no receipt is for that much.
MAX_AMOUNT = ABSURD - Decimal("0.01")

AMOUNT_REQUIRED = N_("No total was read: enter the amount on the receipt.")
AMOUNT_ZERO = N_("Enter an amount above zero.")
AMOUNT_TOO_LARGE = N_("That amount is too large for a receipt.")
NOTE_TOO_LONG = N_("At most 500 characters.")
NOTE_BAD = N_("Remove the control characters from the note.")
REASON_REQUIRED = N_("Choose a reason.")

# The review service's refusals, in the console's words (field, message).
REFUSALS = {
    "no_member": ("form", N_("This receipt has no member: there is nobody to credit.")),
    "amount_required": ("amount", AMOUNT_REQUIRED),
    "invalid_amount": ("amount", AMOUNT_TOO_LARGE),
    "duplicate": ("form", N_("This receipt was already credited (receipt %(other)s).")),
    "invalid_reason": ("reason", REASON_REQUIRED),
}


def note(form: dict[str, str], check: ff.Collect) -> str:
    """The staff note (staff only; the member never sees it)."""
    text = form.get("note", "").strip()
    if len(text) > MAX_NOTE:
        check.add("note", NOTE_TOO_LONG)
    elif not is_storable(text, multiline=True):
        check.add("note", NOTE_BAD)
    return text


def amount(form: dict[str, str], item: queue.QueueItem, check: ff.Collect) -> Decimal | None:
    """The amount in the form, which is what gets credited (it starts as the total read);
    None when left empty and a total was read (the service then takes the member's
    amount, else the total)."""
    value = check(ff.amount, form, "amount", required=item.total is None)
    if "amount" in check.errors:
        if item.total is None and not form.get("amount", "").strip():
            check.errors["amount"] = AMOUNT_REQUIRED
        return None
    if value is None:
        return None
    if value <= 0:
        check.add("amount", AMOUNT_ZERO)
    elif value > MAX_AMOUNT:
        check.add("amount", AMOUNT_TOO_LARGE)
    return value


def day(form: dict[str, str], check: ff.Collect) -> date | None:
    """The receipt's date as typed (None: the date read)."""
    return check(lambda: ff.in_window("receipt_date", ff.day(form, "receipt_date")))

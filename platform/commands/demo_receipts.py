"""The demo shop's receipts: its receipt profile, and points for receipts turned on.

Its receipts print ``示範咖啡`` / ``DEMO CAFE`` / ``Demo Café`` (and the branch lines),
in Hong Kong dollars, in Hong Kong time, an ordinary bill being HK$20 to a few hundred
dollars: a photo of one (:mod:`loyalchat.tools.demo_receipt`) sent on any of the demo's
channels is read, checked and credited with no other set-up. Saved only when it differs
from what is stored, so a second ``loyalchat demo`` writes nothing (and audits nothing).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts.profile import profile_to_dict
from loyalchat.receipts.settings import get_receipt_settings, save_receipt_settings
from loyalchat.tenants import plugin_access, plugin_settings
from loyalchat.tools.demo_receipt import DEMO_BRANCHES, DEMO_NAMES

RECEIPTS_PLUGIN = "receipts"
DEMO_PROFILE = ReceiptProfile(
    merchant_names=(*DEMO_NAMES, *DEMO_BRANCHES),
    currency="HKD",
    timezone="Asia/Hong_Kong",
    total_labels=("總計", "TOTAL"),
    date_order="ymd",
    amount_range=(Decimal("5.00"), Decimal("3000.00")),
)
# A bill above this goes to the staff (one of the demo's month of receipts does).
REVIEW_LIMIT = Decimal("1000.00")


async def ensure_demo_receipts() -> bool:
    """Give the current (demo) tenant its receipt profile and turn receipts on; True when
    anything changed."""
    changed = False
    pm = current_plugin_manager()
    installed = pm.get_plugin(RECEIPTS_PLUGIN) is not None
    if installed and not await plugin_access.is_enabled(RECEIPTS_PLUGIN, pm):
        await plugin_settings.enable_plugin(RECEIPTS_PLUGIN, pm)
        changed = True
    rules = await get_receipt_settings()
    wanted = replace(rules, profile=DEMO_PROFILE, review_limit=REVIEW_LIMIT)
    if (profile_to_dict(rules.profile), rules.review_limit) != (
        profile_to_dict(DEMO_PROFILE),
        REVIEW_LIMIT,
    ):
        await save_receipt_settings(wanted, action="receipt_settings.demo")
        changed = True
    return changed

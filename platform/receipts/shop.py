"""The shop a receipt is judged against, and the keys a credited receipt claims.

Used by the pipeline (checks, the credit) and by staff decisions (their credit's keys), so
both compute "the same receipt" alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from loyalchat.extensions.receipts import ShopProfile
from loyalchat.languages import to_simplified, to_traditional
from loyalchat.receipts.checks.duplicate import receipt_key, sha_key
from loyalchat.receipts.settings import ReceiptRules
from loyalchat.tenants.service import TenantInfo


def shop_names(shop: TenantInfo) -> tuple[str, ...]:
    """The tenant's own names as a receipt may print them, in both Chinese scripts."""
    names: list[str] = []
    for name in (shop.display_name, shop.legal_name):
        name = (name or "").strip()
        if name:
            names += [name, to_traditional(name), to_simplified(name)]
    return tuple(dict.fromkeys(names))


def shop_profile(shop: TenantInfo, rules: ReceiptRules) -> ShopProfile:
    """The tenant's receipt profile, names and rules as the checks read them."""
    branches = rules.profile.hints.get("branches")  # the profile page keeps them there
    return ShopProfile(
        tenant_id=shop.id,
        receipts=rules.profile,
        shop_names=shop_names(shop),
        branches=tuple(b for b in branches if isinstance(b, str))
        if isinstance(branches, list | tuple)
        else (),
        join_links=(),  # the join QR targets are not looked up here (a network call for WeChat)
        window_days=rules.window_days,
        review_limit=rules.review_limit,
        config={"velocity": {"per_hour": rules.per_hour, "per_day": rules.per_day}},
    )


def claim_keys(
    *,
    sha256: str,
    merchant: str,
    receipt_no: str,
    on: date | None,
    total: Decimal | None,
    names: tuple[str, ...],
) -> list[str]:
    """The keys a credited receipt holds: its file, and its (merchant, number, date, total)
    when a number was read."""
    keys = [sha_key(sha256)] if sha256 else []
    key = receipt_key(merchant, receipt_no, on, total, names)
    if key:
        keys.append(key)
    return keys

"""The shop a receipt is judged against, and the keys a credited receipt claims.

Used by the pipeline (checks, the credit) and by staff decisions (their credit's keys), so
both compute "the same receipt" alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from loyalchat.extensions.receipts import ShopProfile
from loyalchat.languages import to_simplified, to_traditional
from loyalchat.qrkit.codes import join_code
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


# Channels whose join link is made here without a network call (WeChat's QR URL comes
# from WeChat's API), so every receipt can be checked against them.
OFFLINE_LINKS = ("whatsapp", "webchat")


async def join_links(shop: TenantInfo) -> tuple[str, ...]:
    """The shop's own join links, as the QR kit prints them on its receipts (the receipt
    printer's PNG): a receipt carrying one is the shop's. Branch links extend these."""
    from loyalchat.conversations.queueing import runtime_config
    from loyalchat.extensions.channels import ChannelError, get_channels
    from loyalchat.pluginmanager import current_plugin_manager

    channels = get_channels(current_plugin_manager())
    links: list[str] = []
    for kind in OFFLINE_LINKS:
        if kind not in channels:
            continue
        try:
            links.append(
                await channels[kind].join_link(join_code(shop.slug), await runtime_config(kind))
            )
        except ChannelError:
            continue  # not set up (no WhatsApp number): no link to match
    return tuple(links)


def shop_profile(shop: TenantInfo, rules: ReceiptRules, links: tuple[str, ...] = ()) -> ShopProfile:
    """The tenant's receipt profile, names and rules as the checks read them; ``links``
    from :func:`join_links`."""
    branches = rules.profile.hints.get("branches")  # the profile page keeps them there
    return ShopProfile(
        tenant_id=shop.id,
        receipts=rules.profile,
        shop_names=shop_names(shop),
        branches=tuple(b for b in branches if isinstance(b, str))
        if isinstance(branches, list | tuple)
        else (),
        join_links=links,
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

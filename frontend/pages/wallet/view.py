"""What the member wallet's templates show, shaped from service output types.

Only presentation: names in the member's language, money and dates in their locale and
the shop's time zone, labels to translate, and the coupon's QR code as inline SVG. The
rules (balances, availability, redemption) stay in the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from loyalchat import texts
from loyalchat.frontend.pages.common.display import Display
from loyalchat.i18n import N_
from loyalchat.members.schemas import MemberOut
from loyalchat.rewards import codes, refusals, text
from loyalchat.rewards.schemas import GrantOut, RewardOut
from loyalchat.tenants.service import TenantInfo

GRANT_LABELS = {
    "issued": N_("Ready to use"),
    "used": N_("Used"),
    "expired": N_("Expired"),
    "void": N_("Cancelled"),
}
# Why a redemption was refused (service error codes), as the chat bot says it too.
REDEEM_ERRORS = refusals.REDEEM_ERRORS
GENERIC_REDEEM_ERROR = refusals.REDEEM_FAILED
# A verified member's details are changed by the shop, never from a link.
PROFILE_LOCKED = N_("Your details are confirmed. To change them, please ask the shop.")


@dataclass(frozen=True, slots=True)
class Card:
    shop: str
    member_no: str
    name: str
    points: int
    stored_value: str
    has_stored_value: bool
    verified: bool
    phone: str  # masked: the link may have been forwarded


def masked_phone(phone: str) -> str:
    """``•••• 4567``: enough for a member to recognise their number, not to learn one."""
    return f"•••• {phone[-4:]}" if len(phone) > 4 else ""


def card(member: MemberOut, tenant: TenantInfo, locale: str) -> Card:
    return Card(
        shop=texts.in_script(tenant.display_name, locale),  # the reader's Chinese script
        member_no=member.member_no,
        name=member.name,
        phone=masked_phone(member.phone),
        points=member.points,
        stored_value=Display(locale, tenant.currency, tenant.timezone).money(member.stored_value),
        has_stored_value=member.stored_value > 0,
        verified=member.verified,
    )


def display(wallet: Any) -> Display:
    """Money and dates in the member's language and the shop's currency and time zone."""
    return Display(wallet.locale, wallet.tenant.currency, wallet.tenant.timezone)


def reward_card(reward: RewardOut, points: int, locale: str, now: datetime) -> dict[str, Any]:
    """A catalogue entry with the member's view of it: sold out, affordable, or short by N."""
    available = reward.available(now)
    return {
        "id": reward.id,
        "name": text.pick(reward.name, locale),
        "description": text.pick(reward.description, locale),
        "benefit": text.pick(reward.options.get("benefit") or "", locale),
        "image": reward.image,  # a media key, served at <wallet>/media/<key>
        "cost": reward.points_cost,
        "stock": reward.stock,
        "sold_out": reward.stock is not None and reward.stock <= 0,
        "available": available,
        "affordable": available and points >= reward.points_cost,
        "short": max(0, reward.points_cost - points),
    }


def qr(code: str, label: str) -> Markup:
    """A grant's QR code (``LCG:<code>``) as inline SVG, labelled for screen readers."""
    from loyalchat.rewards.qr import qr_svg

    svg = qr_svg(code, box_size=10, border=4)
    # The SVG is generated from our own code alphabet (no user text): safe to inline.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704


def grant_card(grant: GrantOut, locale: str, timezone: str, qr_label: str) -> dict[str, Any]:
    """A reward the member holds: its code, status, expiry and, while usable, its QR code
    when its reward type's ``display()`` asks for one (``GrantOut.display``)."""
    usable = grant.status == "issued"
    fmt = Display(locale, "", timezone)
    shown = grant.display
    return {
        "code": grant.code,
        "display_code": codes.display(shown.code) if shown.code else "",
        "label": shown.label,
        "name": text.pick(grant.reward_name, locale),
        "description": grant.description,
        "status": grant.status,
        "status_label": GRANT_LABELS.get(grant.status, grant.status),
        "usable": usable,
        "expires": fmt.local_day(grant.expires_at),
        "used_at": fmt.when(grant.used_at),
        "issued": fmt.local_day(grant.issued_at),
        "qr": qr(shown.code, qr_label) if usable and shown.qr and shown.code else None,
    }

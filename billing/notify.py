"""Billing mails to a shop's owners: payment received or failed, usage near or at a limit.

Sent after the change is committed; a mail that cannot go out is logged and never undoes
or repeats the billing change.
"""

from __future__ import annotations

import logging
from typing import Any

from loyalchat.context import tenant_context
from loyalchat.tenants.accounts import staff_of_current_tenant
from loyalchat.tenants.service import get_tenant
from loyalchat.tenants.tables import Role

log = logging.getLogger(__name__)


async def owners(tenant_id: int) -> list[str]:
    """E-mail addresses of the tenant's owners."""
    with tenant_context(tenant_id):
        staff = await staff_of_current_tenant()
    return [row["email"] for row in staff if row["role"] == Role.owner.value and row["email"]]


async def mail_owners(tenant_id: int, template: str, context: dict[str, Any]) -> int:
    """Send ``template`` to each owner in the shop's language; how many went out."""
    from loyalchat.mail import send_mail

    tenant = await get_tenant(tenant_id)
    if tenant is None:
        return 0
    values = {"shop": tenant.display_name, **context}
    sent = 0
    for address in await owners(tenant_id):
        try:
            await send_mail(address, template, values, locale=tenant.locale, tenant_id=tenant_id)
        except Exception:
            log.exception("billing mail %s to tenant %s failed", template, tenant_id)
        else:
            sent += 1
    return sent


async def after_payment(tenant_id: int, effects: Any) -> None:
    """The mails an applied provider event calls for (see ``lifecycle.Effects``)."""
    if effects.paid is not None and effects.paid["amount"] > 0:  # a trial paid nothing
        paid = effects.paid
        await mail_owners(
            tenant_id,
            "payment_received",
            {"amount": f"{paid['currency']} {paid['amount']:.2f}", "link": "/console/billing"},
        )
    if effects.failed is not None:
        failed = effects.failed
        until = effects.grace_until.date().isoformat() if effects.grace_until else ""
        await mail_owners(
            tenant_id,
            "payment_failed",
            {
                "amount": f"{failed['currency']} {failed['amount']:.2f}",
                "grace_until": until,
                "link": "/console/billing",
            },
        )

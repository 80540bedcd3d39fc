"""Built-in plugin: the ``manual`` payment provider (bank transfer or FPS).

:meth:`ManualPayment.start` gives the platform's bank details
(``LOYALCHAT_MANUAL_PAYMENT_INSTRUCTIONS``) and a reference for the transfer; the merchant
pays, uploads the slip and types the reference on ``/console/billing``
(:mod:`loyalchat.plugins.manual_payment.slips` checks the file); a platform admin confirms
it on ``/admin/payments`` (:func:`loyalchat.billing.service.confirm_manual_payment`). No
webhook: nobody but the admin can say the money arrived.

It also has the billing actors imported by the worker (the grace period, usage mails):
billing's providers are plugins, and this one is always installed.
"""

from __future__ import annotations

from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.payments import (
    PaymentRequest,
    PaymentStart,
    PaymentStatus,
    PaymentUpdate,
)
from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.settings import get_settings
from loyalchat.tasks import register_actor_module

NAME = "manual"
PLUGIN_INFO = PluginInfo(
    title=N_("Bank transfer or FPS"),
    summary=N_(
        "Shops pay their plan by bank transfer or FPS, upload the slip, and a platform "
        "admin confirms the payment."
    ),
)

register_actor_module("loyalchat.billing.tasks")


def reference_for(payment_id: int) -> str:
    """The reference a merchant writes on the transfer: short, unambiguous, one per payment."""
    return f"LC{payment_id:06d}"


class ManualPayment:
    """Payment by bank transfer or FPS, confirmed by a platform admin."""

    name = NAME
    label = N_("Bank transfer or FPS")

    async def start(self, payment: PaymentRequest) -> PaymentStart:
        instructions = get_settings().manual_payment_instructions.strip()
        return PaymentStart(
            provider_ref=reference_for(payment.payment_id), instructions=instructions
        )

    async def verify(self, provider_ref: str) -> PaymentStatus:
        """Only an admin knows: a manual payment stays pending until one decides."""
        return PaymentStatus.pending

    async def handle_webhook(self, request: InboundRequest) -> list[PaymentUpdate]:
        """No provider calls back for a transfer."""
        return []


@hookimpl
def register_payment_providers(register) -> None:
    register(ManualPayment())

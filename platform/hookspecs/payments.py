"""Hooks for payment providers (merchants paying for their plan)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from loyalchat.hookimpl import hookspec

if TYPE_CHECKING:
    from loyalchat.extensions.payments import PaymentProvider


@hookspec
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    """Called when billing starts a payment, polls one, or routes a payment webhook.

    Call ``register(provider)`` once per provider. ``provider`` implements
    :class:`loyalchat.extensions.payments.PaymentProvider`: a unique ``name`` and async
    ``start``, ``verify`` and ``handle_webhook``; optionally ``portal_url``
    (:class:`loyalchat.extensions.payments.PaymentPortal`). Return nothing.
    """

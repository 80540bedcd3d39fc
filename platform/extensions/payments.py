"""Payment providers (Stripe, manual transfer...) for merchants paying their plan.

Providers take their own platform-level configuration (environment variables); what
changes per payment comes in :class:`PaymentRequest`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import pluggy

from loyalchat.extensions.base import InboundRequest, Registry, collect


class PaymentStatus(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    payment_id: int  # our payment row: the idempotency key towards the provider
    tenant_id: int
    amount: Decimal
    currency: str
    description: str
    return_url: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentStart:
    provider_ref: str  # the provider's id for this payment (checkout session, slip ref)
    redirect_url: str = ""  # send the merchant here, when the provider has a page
    instructions: str = ""  # bank details and the like, when it has not


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    provider_ref: str
    status: PaymentStatus
    event_id: str  # unique per provider event: the webhook idempotency key
    raw: Mapping[str, Any] = field(default_factory=dict)


class PaymentError(Exception):
    """A provider refused or could not be reached; ``retryable`` says whether to retry."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class PaymentProvider(Protocol):
    name: str  # "stripe", "manual"...
    label: str

    async def start(self, payment: PaymentRequest) -> PaymentStart:
        """Begin a payment; called once per payment row (retries reuse ``payment_id``)."""
        ...

    async def verify(self, provider_ref: str) -> PaymentStatus:
        """Ask the provider where a payment stands."""
        ...

    async def handle_webhook(self, request: InboundRequest) -> list[PaymentUpdate]:
        """Updates in a webhook; raise :class:`PaymentError` when its signature is bad."""
        ...


@runtime_checkable
class PaymentPortal(Protocol):
    """OPTIONAL, beside :class:`PaymentProvider`: a provider with its own page where the
    merchant changes the card, reads invoices or cancels (Stripe's Billing Portal)."""

    async def portal_url(self, tenant_id: int, return_url: str = "") -> str:
        """A link to the provider's page for this tenant, coming back to ``return_url``;
        raise :class:`PaymentError` when the tenant has nothing there (never paid)."""
        ...


async def portal_url(provider: PaymentProvider, tenant_id: int, return_url: str = "") -> str | None:
    """The provider's portal link for the tenant, or None (no portal, or nothing in it)."""
    if not isinstance(provider, PaymentPortal):
        return None
    try:
        return await provider.portal_url(tenant_id, return_url) or None
    except PaymentError:
        return None


def get_payment_providers(pm: pluggy.PluginManager) -> Registry[PaymentProvider]:
    """Every registered payment provider, by ``name``."""
    return collect(pm, "register_payment_providers", PaymentProvider, what="payment provider")

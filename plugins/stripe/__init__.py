"""Built-in plugin: merchants pay their plan by card through Stripe.

Stripe Checkout starts the subscription (mode ``subscription``, the plan's
``stripe_price_id``), the Billing Portal changes the card or cancels, and Stripe's events
reach ``POST /hooks/stripe``. Configured for the whole platform by the environment (see
:mod:`.config` and docs/stripe.md): the provider is offered only when
``LOYALCHAT_STRIPE_SECRET_KEY`` is set. Parts: :mod:`.provider` (the API calls),
:mod:`.webhook` (verify and store), :mod:`.events` (a stored event to billing),
:mod:`.records` and :mod:`.tables` (customers and checkout sessions kept).
"""

from __future__ import annotations

from typing import Any

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.inbox.service import register_inbound_handler
from loyalchat.plugins.stripe.config import stripe_config
from loyalchat.plugins.stripe.events import handle_event
from loyalchat.plugins.stripe.provider import StripeProvider
from loyalchat.plugins.stripe.webhook import SOURCE

__all__ = ["StripeProvider"]

PLUGIN_INFO = PluginInfo(
    title=N_("Card payments (Stripe)"),
    summary=N_("Shops pay their plan by card; Stripe's portal changes the card or cancels."),
)

# In every process that loads the plugin (web, worker): the inbox routes its events here.
register_inbound_handler(SOURCE, handle_event, replace=True)


@hookimpl
def register_payment_providers(register: Any) -> None:
    if stripe_config().enabled:
        register(StripeProvider())


@hookimpl
def register_routes() -> list[Any]:
    from loyalchat.plugins.stripe.webhook import stripe_webhook

    return [stripe_webhook]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["loyalchat.plugins.stripe.piccolo_app"]

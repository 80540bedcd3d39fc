"""The platform's Stripe account, from the environment, and a client for it.

- ``LOYALCHAT_STRIPE_SECRET_KEY``: the API secret key (``sk_live_...``/``sk_test_...``);
  without it the provider is not offered.
- ``LOYALCHAT_STRIPE_WEBHOOK_SECRET``: the signing secret of the ``/hooks/stripe``
  endpoint (``whsec_...``); without it the endpoint answers 404.
- ``LOYALCHAT_STRIPE_API_BASE``: where the API is (default Stripe's; tests use a fake).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import stripe
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_BASE = stripe.DEFAULT_API_BASE  # https://api.stripe.com
NETWORK_RETRIES = 2  # the library retries with the same idempotency key


class StripeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LOYALCHAT_STRIPE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    secret_key: SecretStr = Field(SecretStr(""), description="Stripe API secret key.")
    webhook_secret: SecretStr = Field(SecretStr(""), description="Webhook signing secret.")
    api_base: str = Field(DEFAULT_API_BASE, description="Stripe API base address.")


@dataclass(frozen=True, slots=True)
class StripeConfig:
    secret_key: str
    webhook_secret: str
    api_base: str

    @property
    def enabled(self) -> bool:
        return bool(self.secret_key)


def stripe_config() -> StripeConfig:
    """Read the settings now (the environment may change between tests; it is cheap)."""
    settings = StripeSettings()
    return StripeConfig(
        secret_key=settings.secret_key.get_secret_value().strip(),
        webhook_secret=settings.webhook_secret.get_secret_value().strip(),
        api_base=(settings.api_base.strip() or DEFAULT_API_BASE).rstrip("/"),
    )


@asynccontextmanager
async def stripe_client(config: StripeConfig | None = None) -> AsyncIterator[stripe.StripeClient]:
    """A StripeClient on ``LOYALCHAT_STRIPE_API_BASE`` whose connections close afterwards.

    One per operation: its httpx pool belongs to the event loop that made it.
    """
    config = config or stripe_config()
    http = stripe.HTTPXClient(timeout=30)
    try:
        yield stripe.StripeClient(
            config.secret_key,
            base_addresses={"api": config.api_base},
            http_client=http,
            max_network_retries=NETWORK_RETRIES,
        )
    finally:
        await http.close_async()

"""Choosing a card plan sends the owner on to the provider's own page (Stripe Checkout on the
fake Stripe API) through a page of ours, not a redirect: the console's CSP lets a form post
only to this site, and a browser holds a form's redirects to that too."""

from __future__ import annotations

import html
import re

from loyalchat.billing import service as billing
from tests.console_helpers import login, open_client, post_form
from tests.fakes.stripe_api import PRICE, FakeStripeApi, stripe_api
from tests.fixtures import World

__all__ = ["stripe_api"]  # the fixture


async def test_choosing_a_card_plan_goes_on_to_checkout_by_a_page_of_ours(
    stripe_api: FakeStripeApi, tenant_a: World, tenant_b: World
) -> None:
    await billing.create_plan(
        billing.PlanInput(code="card", name="Card", monthly_price="299", stripe_price_id=PRICE)
    )
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        chosen = await post_form(
            client, "/console/billing/choose", {"plan": "card", "provider": "stripe"}
        )
    assert chosen.status_code == 200, chosen.text[:300]
    assert "form-action 'self'" in chosen.headers["content-security-policy"]
    link = 'data-testid="billing-leave-link"' in chosen.text
    refresh = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', chosen.text)
    assert link and refresh
    url = html.unescape(refresh.group(1))
    assert url.startswith(f"{stripe_api.base_url}/c/pay/cs_test_")
    assert html.escape(url, quote=True) in chosen.text  # the link a click follows, too
    [payment] = await billing.list_payments(tenant_a.id)
    assert (payment.status, await billing.list_payments(tenant_b.id)) == ("pending", [])

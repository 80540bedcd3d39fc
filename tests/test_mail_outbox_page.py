"""/admin/outbox: the platform admin reads the embedded outbox; nobody else does, and with
SMTP configured there is no outbox (404)."""

from __future__ import annotations

from typing import Any

import pytest

from loyalchat import mail
from loyalchat.settings import get_settings
from loyalchat.tenants import accounts
from tests.console_helpers import login, open_client
from tests.fakes.smtp import clear_outbox
from tests.fixtures import World


@pytest.fixture(autouse=True)
def _outbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    clear_outbox()
    yield
    clear_outbox()
    get_settings.cache_clear()


async def _a_mail() -> str:
    context = {
        "email": "x@example.com",
        "shop": "<b>Shop</b>",
        "link": "/signup/verify?token=t1",
        "hours": 48,
    }
    await mail.send_mail("x@example.com", "verify_email", context, tenant_id=1)
    return mail.outbox_messages()[0].name


async def test_the_admin_lists_and_reads_mails(admin: accounts.StaffInfo) -> None:
    name = await _a_mail()
    async with open_client() as client:
        await login(client, admin.email)
        listing = await client.get("/admin/outbox")
        assert listing.status_code == 200 and f'href="/admin/outbox/{name}"' in listing.text
        one = await client.get(f"/admin/outbox/{name}")
        assert one.status_code == 200
        assert "/signup/verify?token=t1" in one.text
        assert "<b>Shop</b>" not in one.text  # escaped, never rendered as HTML
        for bad in [
            "nope.eml",
            "..%2Fsecret_key",
            "%00",
            "x" * 200,
            "20260101T000000-0000000000000000.eml",
        ]:
            response = await client.get(f"/admin/outbox/{bad}")
            assert response.status_code in (400, 404), bad


async def test_nobody_else_reads_it(tenant_a: World) -> None:
    name = await _a_mail()
    async with open_client() as client:
        anonymous = await client.get("/admin/outbox", follow_redirects=False)
        assert anonymous.status_code in (302, 303, 401)
        for email in (tenant_a.owner.email, tenant_a.cashier.email):
            await login(client, email)
            assert (await client.get("/admin/outbox")).status_code == 403
            assert (await client.get(f"/admin/outbox/{name}")).status_code == 403


async def test_with_smtp_there_is_no_outbox(
    admin: accounts.StaffInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = await _a_mail()
    monkeypatch.setenv("LOYALCHAT_SMTP_URL", "smtp://127.0.0.1:1")
    get_settings.cache_clear()
    async with open_client() as client:
        await login(client, admin.email)
        assert (await client.get("/admin/outbox")).status_code == 404
        assert (await client.get(f"/admin/outbox/{name}")).status_code == 404

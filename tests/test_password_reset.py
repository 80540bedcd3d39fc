"""Password reset by e-mail: the same answer whether or not an account exists; the link
works once, for an hour, and only for the password it was made for."""

from __future__ import annotations

import time
from typing import Any

import pytest
import time_machine

from loyalchat.settings import get_settings
from loyalchat.tenants import account_tokens, accounts
from loyalchat.tenants.tables import AuditLog
from tests.console_helpers import login, open_client, post_form
from tests.fakes.smtp import clear_outbox, last_link, outbox_mails
from tests.fixtures import PASSWORD, World

NEW = "a brand new passphrase"


@pytest.fixture(autouse=True)
def _outbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    clear_outbox()
    yield
    clear_outbox()


async def _ask(client, email: str):
    return await post_form(client, "/password/forgot", {"email": email})


async def test_the_answer_does_not_tell_whether_the_address_has_an_account(
    tenant_a: World,
) -> None:
    async with open_client() as client:
        assert (await client.get("/password/forgot")).status_code == 200
        known = await _ask(client, tenant_a.owner.email)
        unknown = await _ask(client, "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 200
    strip = lambda text, email: text.replace(email, "EMAIL")  # noqa: E731
    assert strip(known.text, tenant_a.owner.email) == strip(unknown.text, "nobody@nowhere.example")
    assert len(outbox_mails(tenant_a.owner.email)) == 1
    assert outbox_mails("nobody@nowhere.example") == []


async def test_a_link_sets_a_new_password_once(tenant_a: World, tenant_b: World) -> None:
    async with open_client() as client:
        await _ask(client, tenant_a.owner.email.upper())
    link = last_link(tenant_a.owner.email, "/password/reset?token=")
    token = link.split("token=")[1]
    async with open_client() as client:
        form = await client.get(link)
        assert form.status_code == 200 and 'name="password_confirm"' in form.text
        assert form.headers["referrer-policy"] == "no-referrer"
        differ = await post_form(
            client, "/password/reset", {"token": token, "password": NEW, "password_confirm": "x"}
        )
        assert differ.status_code == 400 and 'id="f-password_confirm-error"' in differ.text
        short = await post_form(
            client,
            "/password/reset",
            {"token": token, "password": "short", "password_confirm": "short"},
        )
        assert short.status_code == 400 and 'id="f-password-error"' in short.text
        done = await post_form(
            client, "/password/reset", {"token": token, "password": NEW, "password_confirm": NEW}
        )
        assert done.status_code == 303 and done.headers["location"] == "/login"
        replay = await post_form(
            client,
            "/password/reset",
            {"token": token, "password": NEW + "2", "password_confirm": NEW + "2"},
        )
        assert replay.status_code == 400 and 'data-testid="link-invalid"' in replay.text
        assert (await client.get(link)).status_code == 400
    assert await accounts.check_password(tenant_a.owner.email, NEW) is not None
    assert await accounts.check_password(tenant_a.owner.email, PASSWORD) is None
    # nobody else's password moved
    assert await accounts.check_password(tenant_b.owner.email, PASSWORD) is not None
    assert await accounts.check_password(tenant_a.cashier.email, PASSWORD) is not None
    user = await accounts.get_user(tenant_a.owner.id)
    assert user is not None and user.email_verified_at is not None
    rows = await AuditLog.select(AuditLog.tenant).where(AuditLog.action == "staff.password_reset")
    assert [r["tenant"] for r in rows] == [tenant_a.id]
    async with open_client() as client:
        await post_form(client, "/login", {"email": tenant_a.owner.email, "password": NEW})
        assert (await client.get("/console", follow_redirects=False)).status_code == 200


async def test_a_password_change_spends_older_links(tenant_a: World) -> None:
    async with open_client() as client:
        await _ask(client, tenant_a.owner.email)
    link = last_link(tenant_a.owner.email, "/password/reset")
    await accounts.set_password(tenant_a.owner.id, "changed meanwhile 1")
    async with open_client() as client:
        assert (await client.get(link)).status_code == 400


async def test_expired_forged_and_foreign_tokens(tenant_a: World) -> None:
    fingerprint = await accounts.password_fingerprint(tenant_a.owner.id)
    assert fingerprint
    good = account_tokens.make(
        account_tokens.PASSWORD_RESET, {"u": tenant_a.owner.id, "f": fingerprint}
    )
    verify_kind = account_tokens.make(
        account_tokens.VERIFY_EMAIL, {"u": tenant_a.owner.id, "f": fingerprint}
    )
    wrong_user = account_tokens.make(
        account_tokens.PASSWORD_RESET, {"u": tenant_a.cashier.id, "f": fingerprint}
    )
    odd = [
        account_tokens.make(account_tokens.PASSWORD_RESET, {"u": "1", "f": fingerprint}),
        account_tokens.make(account_tokens.PASSWORD_RESET, {"u": 2**40, "f": fingerprint}),
        account_tokens.make(account_tokens.PASSWORD_RESET, {"u": tenant_a.owner.id}),
    ]
    body = {"password": NEW, "password_confirm": NEW}
    async with open_client() as client:
        for token in [good[:-3] + "abc", verify_kind, wrong_user, "", "\x00", "A" * 3000, *odd]:
            response = await post_form(client, "/password/reset", {**body, "token": token})
            assert response.status_code == 400, (token[:40], response.status_code)
            page = await client.get("/password/reset", params={"token": token})
            assert page.status_code == 400
        with time_machine.travel(time.time() + 3601):
            late = await post_form(client, "/password/reset", {**body, "token": good})
        assert late.status_code == 400
    assert await accounts.check_password(tenant_a.owner.email, PASSWORD) is not None


async def test_bad_addresses_and_rate_limits(tenant_a: World) -> None:
    async with open_client() as client:
        for email in ["", "no-at", "x" * 400 + "@a.b", "a\x00@b.c"]:
            response = await _ask(client, email)
            assert response.status_code == 400
        answers = [(await _ask(client, tenant_a.owner.email)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert len(outbox_mails(tenant_a.owner.email)) == 3


async def test_a_signed_in_person_may_use_the_pages_too(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/password/forgot")
        assert page.status_code == 200 and 'action="/password/forgot"' in page.text

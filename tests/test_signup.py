"""Sign up (/signup): one form makes a shop (applying) and its owner, signs them in and
mails the verification link; bad input gets field errors, never a 500."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from loyalchat.settings import get_settings
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import AuditLog, Role, StaffRole, Tenant
from tests.console_helpers import login, open_client, post_form
from tests.fakes.smtp import clear_outbox, last_link, outbox_mails
from tests.fixtures import PASSWORD, World

GOOD = {
    "email": "Owner@Tea-House.example",
    "password": "pour-over 2026 leaves",
    "shop_name": "Tea House 茶館",
    "slug": "tea-house",
}


@pytest.fixture(autouse=True)
def _outbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    clear_outbox()
    yield
    clear_outbox()


async def test_the_page_has_one_post_form_with_the_four_fields(clean_db: None) -> None:
    async with open_client() as client:
        for lang in ("zh-Hant", "zh-Hans", "en"):
            client.cookies.set("lc_lang", lang)
            page = await client.get("/signup")
            assert page.status_code == 200
            forms = re.findall(r"<form[^>]*>", page.text)
            assert len(forms) == 1 and 'method="post"' in forms[0]
            for name in ("email", "password", "shop_name", "slug"):
                assert f'name="{name}"' in page.text
            assert 'name="viewport"' in page.text and f'lang="{lang}"' in page.text
        login_page = await client.get("/login")
        assert 'href="/signup"' in login_page.text and 'href="/password/forgot"' in login_page.text


async def test_sign_up_creates_an_applying_shop_its_owner_and_mails_the_link(
    clean_db: None,
) -> None:
    async with open_client() as client:
        client.cookies.set("lc_lang", "zh-Hant")
        response = await post_form(client, "/signup", GOOD)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/onboarding"
        home = await client.get("/console", follow_redirects=False)
        assert home.status_code == 200 and "Tea House" in home.text  # signed in, in the shop
        wizard = await client.get("/onboarding")
        assert 'data-testid="verify-notice"' in wizard.text  # until the address is confirmed
    tenant = await tenant_service.get_tenant_by_slug("tea-house")
    assert tenant is not None and tenant.status == "applying" and tenant.locale == "zh-Hant"
    assert tenant.display_name == "Tea House 茶館"
    user = await accounts.get_user_by_email("owner@tea-house.example")
    assert user is not None and user.email_verified_at is None and user.locale == "zh-Hant"
    assert await accounts.role_in(user.id, tenant.id) is Role.owner
    assert await accounts.check_password("owner@tea-house.example", GOOD["password"]) is not None
    row = await accounts.StaffUser.select().where(accounts.StaffUser.id == user.id).first()
    assert row["password_hash"].startswith("$argon2id$")
    mails = outbox_mails("owner@tea-house.example")
    assert len(mails) == 1 and "Tea House" in mails[0]["Subject"]
    actions = {r["action"] for r in await AuditLog.select(AuditLog.action)}
    assert {"tenant.create", "staff.role", "staff.login"} <= actions

    link = last_link("owner@tea-house.example", "/signup/verify?token=")
    async with open_client() as anonymous:
        page = await anonymous.get(link)
        assert page.status_code == 200 and 'data-testid="verify-verified"' in page.text
        again = await anonymous.get(link)
        assert again.status_code == 200 and 'data-testid="verify-already"' in again.text
    user = await accounts.get_user(user.id)
    assert user is not None and user.email_verified_at is not None
    async with open_client() as client:
        await client.get("/login")
        signed_in = await post_form(
            client, "/login", {"email": "owner@tea-house.example", "password": GOOD["password"]}
        )
        assert signed_in.status_code == 303
        assert 'data-testid="verify-notice"' not in (await client.get("/onboarding")).text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a\x00b@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "password"),
        ({"password": "1234567890123"}, "password"),
        ({"password": "x" * 5000}, "password"),
        ({"shop_name": ""}, "shop_name"),
        ({"shop_name": "Tea\x00House"}, "shop_name"),
        ({"shop_name": "T" * 300}, "shop_name"),
        ({"slug": "Tea House"}, "slug"),
        ({"slug": "ab"}, "slug"),
        ({"slug": "-tea"}, "slug"),
        ({"slug": "admin"}, "slug"),
        ({"slug": "tea\x00"}, "slug"),
        ({"slug": "t" * 100_000}, "slug"),
    ],
)
async def test_bad_fields_are_named_and_nothing_is_created(
    clean_db: None, change: dict[str, str], field: str
) -> None:
    async with open_client() as client:
        response = await post_form(client, "/signup", {**GOOD, **change})
    assert response.status_code == 400, response.text[:300]
    if not any("\x00" in value for value in change.values()):  # NUL: the input guard's 400
        assert f'id="f-{field}-error"' in response.text
    assert 'value="pour-over' not in response.text  # the password is never echoed
    assert await Tenant.count() == 0 and await accounts.StaffUser.count() == 0
    assert outbox_mails() == []


async def test_a_taken_slug_or_address_is_refused(tenant_a: World) -> None:
    async with open_client() as client:
        taken_slug = await post_form(client, "/signup", {**GOOD, "slug": tenant_a.tenant.slug})
        assert taken_slug.status_code == 400 and 'id="f-slug-error"' in taken_slug.text
        taken_mail = await post_form(client, "/signup", {**GOOD, "email": tenant_a.owner.email})
        assert taken_mail.status_code == 400 and 'id="f-email-error"' in taken_mail.text
    assert await Tenant.count() == 1
    # tenant A's owner is untouched: still only A's owner, same password
    assert await accounts.check_password(tenant_a.owner.email, PASSWORD) is not None
    assert await StaffRole.count() == 2


async def test_no_csrf_token_no_shop(clean_db: None) -> None:
    async with open_client() as client:
        await client.get("/signup")
        response = await client.post("/signup", data=GOOD, follow_redirects=False)
    assert response.status_code == 403
    assert await Tenant.count() == 0


async def test_odd_bodies_never_give_a_500(clean_db: None) -> None:
    async with open_client() as client:
        await client.get("/signup")
        token = client.cookies.get("lc_csrf", "")
        headers = {"x-csrftoken": token}
        for body in [
            {
                "content": b'{"email": 1}',
                "headers": {**headers, "content-type": "application/json"},
            },
            {"content": b"", "headers": headers},
            {
                "content": b"email=%00&password=%00&slug=%00",
                "headers": {**headers, "content-type": "application/x-www-form-urlencoded"},
            },
        ]:
            response = await client.post("/signup", follow_redirects=False, **body)
            assert response.status_code < 500, response.text[:300]
        for query in ["token=", "token=%00", "token=" + "A" * 5000, "token=abc.def.ghi", "x=1"]:
            response = await client.get(f"/signup/verify?{query}")
            assert response.status_code == 400, (query, response.status_code)
    assert await Tenant.count() == 0


async def test_forged_expired_and_other_kind_verification_tokens(
    tenant_a: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time_machine

    from loyalchat.tenants import account_tokens, signup

    good = signup.verification_link(tenant_a.owner.id, tenant_a.owner.email)
    token = good.split("token=")[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_kind = account_tokens.make(
        account_tokens.PASSWORD_RESET, {"u": tenant_a.owner.id, "e": tenant_a.owner.email}
    )
    other_user = signup.verification_link(tenant_a.cashier.id, tenant_a.owner.email)
    async with open_client() as client:
        for bad in [forged, other_kind, other_user.split("token=")[1]]:
            response = await client.get(f"/signup/verify?token={bad}")
            assert response.status_code == 400 and 'data-testid="verify-invalid"' in response.text
        with time_machine.travel(time.time() + 49 * 3600):
            expired = await client.get(good)
        assert expired.status_code == 400
    assert (await accounts.get_user(tenant_a.owner.id)).email_verified_at is None  # type: ignore[union-attr]


async def test_resend_is_for_the_signed_in_person_and_rate_limited(tenant_a: World) -> None:
    async with open_client() as client:
        anonymous = await post_form(client, "/signup/resend", {})
        assert anonymous.status_code in (302, 303, 401) and "/login" in anonymous.headers.get(
            "location", "/login"
        )
        await login(client, tenant_a.owner.email)
        for _ in range(3):
            response = await post_form(client, "/signup/resend", {"next": "https://evil.example/"})
            assert response.status_code == 303 and response.headers["location"] == "/onboarding"
        assert len(outbox_mails(tenant_a.owner.email)) == 3
        await post_form(client, "/signup/resend", {})
        assert len(outbox_mails(tenant_a.owner.email)) == 3  # the fourth waits
    link = last_link(tenant_a.owner.email, "/signup/verify")
    async with open_client() as client:
        assert (await client.get(link)).status_code == 200
        await login(client, tenant_a.owner.email)
        await post_form(client, "/signup/resend", {})
    assert len(outbox_mails(tenant_a.owner.email)) == 3  # verified: nothing more to send


async def test_sign_ups_from_one_address_are_rate_limited(clean_db: None) -> None:
    async with open_client() as client:
        for n in range(10):
            body = {**GOOD, "email": f"o{n}@shop{n}.example", "slug": f"shop-{n}"}
            response = await post_form(client, "/signup", body)
            assert response.status_code == 303, response.text[:200]
            client.cookies.clear()
        response = await post_form(client, "/signup", {**GOOD, "slug": "one-more"})
    assert response.status_code == 429 and response.headers["retry-after"]
    assert await Tenant.count() == 10


async def test_a_failing_smtp_server_still_creates_the_shop(
    clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail is queued, not sent in the request: the server being down is the queue's
    business (retries: tests/test_mail_queue.py), and the page says the link is on its way."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LOYALCHAT_SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    async with open_client() as client:
        response = await post_form(client, "/signup", GOOD)
        assert response.status_code == 303
        page = await client.get("/console")
    assert await Tenant.count() == 1
    assert "flash-warning" not in page.text and "owner@tea-house.example" in page.text

"""Security headers on every kind of response; Secure cookies and HSTS under https."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.settings import Settings
from tests.fixtures import PASSWORD, World
from tests.test_web_hardening import WALLET_TOKEN, probe_client

ROOT = Path(__file__).resolve().parents[1]


def assert_hardened(response, *, https: bool = False) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in csp.split(";") if part.strip()
    )
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("script-src") == ["'self'", "'wasm-unsafe-eval'"], where
    assert directives.get("style-src") == ["'self'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("form-action") == ["'self'"], where
    assert directives.get("base-uri") == ["'none'"], where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("x-frame-options") == "DENY", where
    if https:
        assert headers.get("strict-transport-security", "").startswith("max-age="), where
    else:
        assert "strict-transport-security" not in headers, where


async def test_every_kind_of_response_carries_the_headers(tenant_a: World) -> None:
    bearer = {"authorization": f"Bearer {tenant_a.api_key}"}
    async with probe_client() as client:
        responses = [
            await client.get("/login"),  # HTML page
            await client.get("/health"),  # JSON
            await client.get("/api/v1/members", headers=bearer),  # API JSON
            await client.get("/api/v1/nowhere", headers=bearer),  # API error (JSON)
            await client.get("/api/v1/members"),  # 401 JSON
            await client.get("/static/css/app.css"),  # our static file
            await client.get("/static/vendor/htmx/htmx.min.js"),  # npm asset
            await client.get("/no/such/page"),  # 404 from the router (HTML)
            await client.get("/console", follow_redirects=False),  # redirect to sign in
            await client.post("/login", data={"email": "a@b.test"}),  # CSRF refusal (403)
            await client.get(f"/w/{WALLET_TOKEN}"),  # a wallet link that does not verify
            await client.get(f"/w/{WALLET_TOKEN}/probe-crash"),  # 500 page
            await client.get("/schema/openapi.json"),
        ]
    statuses = [response.status_code for response in responses]
    assert 500 in statuses and 404 in statuses and 403 in statuses and 200 in statuses
    for response in responses:
        assert_hardened(response)


async def test_https_base_url_adds_hsts_and_secure_cookies(tenant_a: World) -> None:
    from loyalchat.app import create_app

    settings = Settings(public_base_url="https://loyalty.example")
    app = create_app(settings, run_workers=False)
    async with AsyncTestClient(app=app, base_url="https://testserver") as client:
        page = await client.get("/login")
        token = client.cookies.get("lc_csrf", "")
        signed_in = await client.post(
            "/login",
            data={"email": tenant_a.owner.email, "password": PASSWORD, "_csrf_token": token},
            follow_redirects=False,
        )
        language = await client.get("/lang/en", follow_redirects=False)
    assert_hardened(page, https=True)
    assert_hardened(signed_in, https=True)
    assert signed_in.status_code == 303
    cookies = signed_in.headers.get_list("set-cookie") + page.headers.get_list("set-cookie")
    session = [c for c in cookies if c.startswith("lc_session=")]
    csrf = [c for c in cookies if c.startswith("lc_csrf=")]
    assert session and csrf
    assert all("secure" in c.lower().split("; ") for c in session + csrf), cookies
    assert "secure" in language.headers["set-cookie"].lower().split("; ")


def test_base_layout_turns_off_htmx_inline_styles() -> None:
    base = (ROOT / "frontend" / "templates" / "base.html").read_text()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', base)
    assert meta, "htmx injects an inline <style> unless told not to"
    assert '"includeIndicatorStyles":false' in meta.group(1).replace(" ", "")


@pytest.mark.parametrize("folder", ["frontend/templates", "plugins"], ids=["frontend", "plugins"])
def test_templates_have_no_inline_script_or_style(folder: str) -> None:
    """The CSP forbids inline code and styles: keep them in /static files."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
        r"|<style\b|\sstyle=|\son[a-z]+=",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / folder).rglob("*.html")
        if "node_modules" not in path.parts
        for match in inline.finditer(path.read_text())
    ]
    assert found == []

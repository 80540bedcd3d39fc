"""Helpers for the console page tests: a client on a fresh app, signing in, posting forms.

The app (and its database connections) runs on the client's own event loop, so tests
touch the database only before or after the ``async with open_client()`` block.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from tests.fixtures import PASSWORD, World

TOKEN_RE = re.compile(r'name="token" value="([A-Za-z0-9_-]+)"')


def open_client() -> AsyncTestClient:
    from loyalchat.app import create_app

    return AsyncTestClient(app=create_app(run_workers=False))


async def login(client: AsyncTestClient, email: str) -> None:
    await client.get("/login")
    response = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def post_form(client: AsyncTestClient, path: str, data: dict | None = None, **kwargs):
    """POST a form the way a browser does: with the CSRF token from the cookie."""
    if not client.cookies.get("lc_csrf"):
        await client.get("/login")
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        path, data={**(data or {}), "_csrf_token": token}, follow_redirects=False, **kwargs
    )


def form_tokens(html: str) -> list[str]:
    """The one-time form tokens on a page, in page order."""
    return TOKEN_RE.findall(html)


@contextmanager
def as_owner(world: World):
    """Service calls as the tenant's owner (to set up data before the client runs)."""
    with tenant_context(world.id, Actor("staff", world.owner.id, world.owner.email)):
        yield

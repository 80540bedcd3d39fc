"""The isolation harness (DESIGN.md section 5, invariant 1).

It walks every registered route. With tenant A's credentials (a staff session for pages,
an API key under /api) and tenant B's ids in the path, every route must answer 403 or 404
and leave B's rows exactly as they were; list pages must not show B's data (slug, owner,
key prefix, member names and numbers). Then every mutating route gets a body, and every
page with query parameters a query string, naming B's objects (tests/isolation_probes.py,
generated from the input schemas, handler signatures and form templates).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from loyalchat import db
from loyalchat.scoping import is_tenant_owned
from tests.fixtures import PASSWORD, World
from tests.isolation_objects import FACTORIES
from tests.isolation_probes import (
    api_body,
    console_form,
    own_objects,
    query_probes,
    unclassified,
)

PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
# Routes anyone may call: no tenant data behind them.
PUBLIC_PREFIXES = ("/health", "/ready", "/schema", "/static", "/login", "/logout", "/lang/")


def _handlers(app: Litestar) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((route.path, method, handler))
    return found


async def _snapshot(tenant_id: int) -> dict[str, list[dict]]:
    """Every tenant-owned row of a tenant, to prove a request changed nothing."""
    snap = {}
    for table in db.all_tables():
        if is_tenant_owned(table):
            rows = (
                await table.select()
                .where(table.tenant == tenant_id)
                .order_by(table._meta.primary_key)
            )
            snap[table._meta.tablename] = rows
    return snap


async def _login(client: AsyncTestClient, email: str) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD},
        headers={"x-csrftoken": client.cookies.get("lc_csrf", "")},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text


def _fill(path: str, value: int | str | Mapping[str, int | str]) -> str:
    """Put a planted object in the path. An int id goes in int parameters (others get "x");
    a mapping gives the value per parameter type (``{"int": id, "str": member_no}``)."""

    def one(match: re.Match) -> str:
        kind = match.group(2) or "int"
        if isinstance(value, Mapping):
            return str(value.get(kind, "x"))
        return str(value) if kind == "int" else "x"

    return PARAM.sub(one, path)


def _markers(world: World, planted: Mapping[str, Any] | None = None) -> list[str]:
    """What must never show in tenant A's responses: B's slug, owner, API key prefix and,
    once planted, its member's name and number (list pages, search results)."""
    found = [world.tenant.slug, world.owner.email, world.api_key.split("_")[1]]
    if planted:
        found += [PLANTED_MEMBER_NAME, str(planted["member"]["str"])]
    return found


PLANTED_MEMBER_NAME = "Planted"  # isolation_objects._member's name for B's member


async def _plant(tenant_b: World) -> dict[str, Any]:
    planted: dict[str, Any] = {}
    for kind, factory in FACTORIES.items():
        planted[kind] = await factory(tenant_b.id)
    planted["tenant"] = tenant_b.id
    return planted


async def test_every_route_refuses_other_tenants_objects(
    app: Litestar, tenant_a: World, tenant_b: World
) -> None:
    planted = await _plant(tenant_b)
    before = await _snapshot(tenant_b.id)

    checked = 0
    async with AsyncTestClient(app=app) as staff, AsyncTestClient(app=app) as api:
        await _login(staff, tenant_a.owner.email)
        api.headers["Authorization"] = f"Bearer {tenant_a.api_key}"
        csrf = {"x-csrftoken": staff.cookies.get("lc_csrf", "")}
        for path, method, handler in _handlers(app):
            if path.startswith(PUBLIC_PREFIXES) or handler.opt.get("isolation") == "public":
                continue
            client = api if path.startswith("/api/") else staff
            params = PARAM.findall(path)
            if params:
                kind = handler.opt.get("tenant_object")
                if handler.opt.get("platform_admin"):
                    kind = kind or "platform"
                assert kind, f"{method} {path}: declare opt tenant_object (or isolation=public)"
                if kind == "platform":
                    target = _fill(path, tenant_b.id)
                else:
                    assert kind in FACTORIES, f"no isolation factory for {kind!r} ({path})"
                    target = _fill(path, planted[kind])
                response = await client.request(
                    method, target, headers=csrf, json={}, follow_redirects=False
                )
                assert response.status_code in (403, 404), (
                    f"{method} {target} as tenant A gave {response.status_code}: {response.text[:300]}"
                )
            elif method == "GET":
                response = await client.get(path, follow_redirects=False)
                for marker in _markers(tenant_b, planted):
                    assert marker not in response.text, f"GET {path} leaked tenant B's {marker!r}"
            checked += 1
    assert checked >= 5
    assert await _snapshot(tenant_b.id) == before, "a request as tenant A changed tenant B's rows"


async def test_harness_covers_every_declared_object_kind(app: Litestar) -> None:
    kinds = {
        handler.opt["tenant_object"]
        for _, _, handler in _handlers(app)
        if "tenant_object" in handler.opt
    }
    assert kinds, "no route declares a tenant_object: the harness would prove nothing"
    assert kinds <= set(FACTORIES), f"missing factories: {kinds - set(FACTORIES)}"


@pytest.fixture
def app() -> Litestar:
    from loyalchat.app import create_app

    # Two clients share this app (staff session and API key); the queue plays no part here.
    return create_app(run_workers=False)


def test_every_non_public_route_has_a_guard(app: Litestar) -> None:
    """A console or API route without a guard would serve whoever asks."""
    unguarded, guarded = [], 0
    for path, method, handler in _handlers(app):
        if (
            path == "/"
            or path.startswith(PUBLIC_PREFIXES)
            or handler.opt.get("isolation") == "public"
        ):
            continue
        if handler.resolve_guards():
            guarded += 1
        else:
            unguarded.append(f"{method} {path}")
    assert not unguarded, f"routes without a guard: {unguarded}"
    assert guarded >= 10


MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


async def test_bodies_and_queries_naming_other_tenants_objects(
    app: Litestar, tenant_a: World, tenant_b: World
) -> None:
    """Every mutating route gets a body, and every page with query parameters a query
    string, naming B's objects (routes with path parameters get A's own object there):
    B's rows stay as they were and nothing of B shows, whatever the status."""
    planted = await _plant(tenant_b)
    own = await own_objects(tenant_a.id)
    before = await _snapshot(tenant_b.id)
    markers = _markers(tenant_b, planted)
    searches = [str(planted["member"]["str"]), PLANTED_MEMBER_NAME, "91234567"]
    probed: list[str] = []
    async with AsyncTestClient(app=app) as staff, AsyncTestClient(app=app) as api:
        await _login(staff, tenant_a.owner.email)
        api.headers["Authorization"] = f"Bearer {tenant_a.api_key}"
        csrf = {"x-csrftoken": staff.cookies.get("lc_csrf", "")}
        for path, method, handler in _handlers(app):
            if path.startswith(PUBLIC_PREFIXES) or handler.opt.get("isolation") == "public":
                continue
            if handler.opt.get("platform_admin"):
                continue  # the platform admin spans tenants by design
            is_api = path.startswith("/api/")
            client = api if is_api else staff
            target = path
            if PARAM.search(path):
                kind = handler.opt.get("tenant_object")
                if kind not in own:
                    continue  # no object of A's own to put in the path
                target = _fill(path, own[kind])
            requests: list[tuple[dict, Any, set[str]]] = []
            if method == "GET":
                for query in query_probes(handler, path, planted, searches):
                    requests.append((query, None, set(query.values())))
            elif method in MUTATING:
                body, sent = api_body(handler, planted) if is_api else console_form(planted)
                requests.append(({}, body, sent))
            for query, body, sent in requests:
                options: dict[str, Any] = {"params": query, "follow_redirects": False}
                if body is not None:
                    options["headers"] = csrf
                    options["json" if is_api else "data"] = body
                response = await client.request(method, target, **options)
                where = f"{method} {target} {query or body}"
                assert response.status_code < 500, f"{where}: {response.status_code}"
                for marker in markers:
                    if marker not in sent:
                        assert marker not in response.text, f"{where} leaked B's {marker!r}"
                probed.append(f"{method} {path}")
        # Nothing above may have moved A's session into B (POST /console/switch).
        home = await staff.get("/console", follow_redirects=False)
        assert tenant_b.tenant.slug not in home.text
    assert {"POST /api/v1/rewards", "POST /console/coupons/use", "POST /console/switch"} <= set(
        probed
    )
    assert "POST /api/v1/members/{member_no:str}/redemptions" in probed
    assert "GET /api/v1/members" in probed and "GET /console/coupons" in probed
    assert await _snapshot(tenant_b.id) == before, "a request as tenant A changed tenant B's rows"


def test_every_input_field_is_classified(app: Litestar) -> None:
    """A new schema field, query parameter or form field must be sorted into object-naming
    (the harness plants B's value in it) or plain (tests/isolation_probes.py)."""
    missing = unclassified(_handlers(app))
    assert not missing, f"classify these fields in tests/isolation_probes.py: {sorted(missing)}"

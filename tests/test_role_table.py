"""The API and the console ask the same role for the same action (issue 8, finding 4).

The table "Roles by route" in docs/loyalty.md pairs every API route with its console
counterpart and names one role. These tests build the app, read each route handler's
guards (tenants.auth.required_role), and compare: a route missing from the table, a row
naming a route that does not exist, or a guard that differs from its row all fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from loyalchat.tenants.auth import platform_admin_required, required_role, route_guards
from loyalchat.tenants.tables import Role
from tests.api_support import add_member, bearer, key_with_role
from tests.fixtures import World

DOC = Path(__file__).parent.parent / "docs" / "loyalty.md"
HEADING = "## Roles by route"
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
# Route families the table covers: everything a role decides.
COVERED = ("/api/", "/console", "/admin")
PLATFORM_ADMIN = "platform admin"


def table_rows() -> list[tuple[list[str], list[str], str]]:
    """(API routes, console routes, role) per row of the table, routes as ``METHOD path``."""
    text = DOC.read_text(encoding="utf-8")
    assert HEADING in text, f"docs/loyalty.md lost its '{HEADING}' section"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not line.startswith("|") or cells[0] == "API route":
            continue
        if re.fullmatch(r"-{3,}", cells[0]):  # the header's underline
            continue
        api = [f"{m} {p}" for m, p in ROUTE.findall(cells[0])]
        console = [f"{m} {p}" for m, p in ROUTE.findall(cells[1])]
        rows.append((api, console, cells[2]))
    return rows


def app_roles(app: Litestar) -> dict[str, str]:
    """``METHOD path`` -> the role its guards ask for, for every covered route."""
    found: dict[str, str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(COVERED):
            continue
        for handler in route.route_handlers:
            role = required_role(handler)
            if role is not None:
                name = role.value
            elif platform_admin_required in route_guards(handler):
                name = PLATFORM_ADMIN
            else:
                name = "none"
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                found[f"{method} {route.path}"] = name
    return found


@pytest.fixture(scope="module")
def built() -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False)


def test_the_table_parses_and_pairs_api_with_console() -> None:
    rows = table_rows()
    assert len(rows) >= 20
    assert sum(1 for api, console, _ in rows if api and console) >= 15
    for api, console, role in rows:
        assert api or console, f"a row without routes: {role}"
        assert role in {"cashier", "manager", "owner", PLATFORM_ADMIN}, role
        assert all(route.split(" ", 1)[1].startswith("/api/") for route in api), api
        assert not any(route.split(" ", 1)[1].startswith("/api/") for route in console), console


def test_every_route_has_the_role_its_table_row_names(built: Litestar) -> None:
    documented: dict[str, str] = {}
    for api, console, role in table_rows():
        for route in (*api, *console):
            assert route not in documented, f"{route} is in two rows of the table"
            documented[route] = role
    actual = app_roles(built)
    missing = sorted(set(actual) - set(documented))
    stale = sorted(set(documented) - set(actual))
    assert not missing, f"routes missing from docs/loyalty.md '{HEADING}': {missing}"
    assert not stale, f"the table names routes the app does not have: {stale}"
    wrong = {
        route: (actual[route], role) for route, role in documented.items() if actual[route] != role
    }
    assert not wrong, f"guard role differs from the table (actual, table): {wrong}"


async def test_a_cashier_key_cannot_move_stored_value(app: Litestar, tenant_a: World) -> None:
    """The review's example: a cashier key topped up stored value (money) without limit,
    while the console needs a manager."""
    member_no = await add_member(tenant_a)
    cashier = await key_with_role(tenant_a, Role.cashier)
    manager = tenant_a.api_key
    body = {"amount": "1000.00", "reason": "till"}
    async with AsyncTestClient(app=app) as client:
        base = f"/api/v1/members/{member_no}/stored-value"
        for action in ("top-ups", "spends"):
            refused = await client.post(f"{base}/{action}", json=body, headers=bearer(cashier))
            assert refused.status_code == 403, (action, refused.text)
        topped = await client.post(f"{base}/top-ups", json=body, headers=bearer(manager))
        assert topped.status_code == 201, topped.text
        history = await client.get(base, headers=bearer(cashier))
    assert [entry["amount"] for entry in history.json()["items"]] == ["1000.00"]

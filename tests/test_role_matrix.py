"""The role matrix: every mutating route, API and console, against every kind of caller.

Generated from the app's route table, not a hand-written list: each POST, PUT, PATCH and
DELETE handler under /api, /console and /admin is sent by a cashier, a manager and an
owner of shop A, a platform admin with no shop role, shop B's owner, nobody, and the
owner of suspended shop S. What each may do comes from the handler's own guards
(``tenants.auth.required_role``, ``platform_admin_required``) and ``tenants.access``;
tests/test_role_table.py checks those guards against docs/loyalty.md.

Allowed callers get anything but 401/403 (an empty body may well be 400, 404 or 422);
the others get 401/403 (anonymous pages: a redirect to /login), B's owner gets 403/404
for A's objects, and none of those requests changes a row of shop A or shop S. Path
parameters are filled with real objects of the shop (tests/isolation_objects.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from loyalchat import db
from loyalchat.context import Actor, tenant_context
from loyalchat.scoping import is_tenant_owned
from loyalchat.tenants import access, accounts, apikeys
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.auth import platform_admin_required, required_role, route_guards
from loyalchat.tenants.tables import Role, TenantStatus
from tests.fixtures import PASSWORD, World, make_world
from tests.isolation_objects import FACTORIES
from tests.test_isolation import PARAM, _fill

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COVERED = ("/api/", "/console", "/admin")
# Columns a refused request may still touch: "last used" of the key that was refused.
IGNORED_COLUMNS = {"last_used_at"}
CALLERS = ("cashier", "manager", "owner", "platform_admin", "other_owner", "anonymous", "suspended")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    handler: HTTPRouteHandler

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def role(self) -> Role | None:
        return required_role(self.handler)

    @property
    def admin_only(self) -> bool:
        return platform_admin_required in route_guards(self.handler)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def mutating_cases(app: Litestar) -> list[Case]:
    """Every write handler of the app that a role decides, straight from ``app.routes``."""
    cases = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(COVERED):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods & WRITES):
                cases.append(Case(method, route.path, handler))
    return cases


def expectation(case: Case, caller: str) -> str:
    """``allowed``, ``refused`` (401/403 or the login redirect) or ``not_yours`` (403/404)."""
    if case.admin_only:
        return "allowed" if caller == "platform_admin" else "refused"
    role = case.role
    assert role is not None, f"{case}: no role guard and no admin guard"
    if caller in ("cashier", "manager", "owner"):
        return "allowed" if Role(caller).covers(role) else "refused"
    if caller == "other_owner":
        return "not_yours" if PARAM.search(case.path) else "allowed_elsewhere"
    if caller == "suspended":
        try:
            access.check(TenantStatus.suspended.value, method=case.method, opt=case.handler.opt)
        except access.TenantSuspended:
            return "suspended"
        return "allowed_elsewhere"  # a POST that changes nothing (preview, switch)
    return "refused"  # platform admin without a shop role; anonymous


@dataclass
class Shop:
    world: World
    keys: dict[str, str]
    objects: dict[str, Any]


async def _staff(world: World, role: Role) -> accounts.StaffInfo:
    user = await accounts.create_staff_user(f"{role.value}-m@{world.tenant.slug}.test", PASSWORD)
    with tenant_context(world.id, Actor("system")):
        await accounts.grant_role(user.id, role)
    return user


async def _shop(slug: str, *, planted: bool = True) -> Shop:
    """A shop with a key per role and, when ``planted``, one object of every kind.

    Shop B plants nothing: its own member "B000001" would answer for A's.
    """
    world = await make_world(slug)
    keys = {}
    with tenant_context(world.id, Actor("system")):
        for role in Role:
            keys[role.value] = (await apikeys.create_key(f"{role.value} key", role)).key
    objects: dict[str, Any] = {}
    if planted:
        objects = {kind: await factory(world.id) for kind, factory in FACTORIES.items()}
    objects["platform"] = world.id
    return Shop(world, keys, objects)


async def _snapshot(*tenant_ids: int) -> dict[str, list[dict]]:
    snap = {}
    for table in db.all_tables():
        if not is_tenant_owned(table):
            continue
        rows = (
            await table.select()
            .where(table.tenant.is_in(list(tenant_ids)))
            .order_by(table._meta.primary_key)
        )
        snap[table._meta.tablename] = [
            {k: v for k, v in row.items() if k not in IGNORED_COLUMNS} for row in rows
        ]
    return snap


def _target(case: Case, objects: Mapping[str, Any]) -> str:
    params = PARAM.findall(case.path)
    if not params:
        return case.path
    kind = case.handler.opt.get("tenant_object") or (
        "platform" if case.handler.opt.get("platform_admin") or case.admin_only else None
    )
    assert kind in objects, f"{case}: no planted object for {kind!r} (declare tenant_object)"
    return _fill(case.path, objects[kind])


async def _login(client: AsyncTestClient, email: str | None) -> None:
    await client.get("/login")  # the CSRF cookie, for everyone
    if email is None:
        return
    response = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "_csrf_token": client.cookies["lc_csrf"]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


async def _send(client: AsyncTestClient, case: Case, path: str, key: str | None):
    if case.is_api:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return await client.request(
            case.method, path, json={}, headers=headers, follow_redirects=False
        )
    form = {"_csrf_token": client.cookies.get("lc_csrf", "")}
    return await client.request(case.method, path, data=form, follow_redirects=False)


def _judge(case: Case, caller: str, expected: str, response) -> str | None:
    """What is wrong with ``response`` (None: as expected)."""
    status = response.status_code
    to_login = status in (302, 303) and response.headers.get("location", "").startswith("/login")
    if status >= 500:
        return f"server error {status}"
    if expected in ("allowed", "allowed_elsewhere"):
        return None if status not in (401, 403) and not to_login else f"refused ({status})"
    if expected == "not_yours":
        return None if status in (403, 404) else f"reached another shop's object ({status})"
    if expected == "suspended":
        if status != 403:
            return f"a suspended shop wrote ({status})"
        if case.is_api and response.json()["error"]["code"] != "tenant_suspended":
            return f"403 for another reason: {response.text[:200]}"
        return None
    if caller == "anonymous" and not case.is_api:
        return None if to_login else f"no redirect to /login ({status})"
    return None if status in (401, 403) else f"not refused ({status})"


@pytest.fixture
def app() -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False)


async def test_every_write_route_answers_each_caller_as_its_guards_say(app: Litestar) -> None:
    shop_a, shop_b, shop_s = (
        await _shop("alpha-tea"),
        await _shop("bravo-bakery", planted=False),
        await _shop("sierra-sus"),
    )
    manager = await _staff(shop_a.world, Role.manager)
    admin = await accounts.create_staff_user(
        "admin@platform.test", PASSWORD, is_platform_admin=True
    )
    await tenant_service.set_status(shop_s.world.id, TenantStatus.suspended, reason="matrix")
    # Who each caller is: (shop whose objects fill the path, sign-in e-mail, API key).
    callers: dict[str, tuple[Shop, str | None, str | None]] = {
        "cashier": (shop_a, shop_a.world.cashier.email, shop_a.keys["cashier"]),
        "manager": (shop_a, manager.email, shop_a.keys["manager"]),
        "owner": (shop_a, shop_a.world.owner.email, shop_a.keys["owner"]),
        "platform_admin": (shop_a, admin.email, None),  # no API key: the API sees nobody
        "other_owner": (shop_a, shop_b.world.owner.email, shop_b.keys["owner"]),
        "anonymous": (shop_a, None, None),
        "suspended": (shop_s, shop_s.world.owner.email, shop_s.keys["owner"]),
    }
    cases = mutating_cases(app)
    assert sum(c.is_api for c in cases) >= 10 and sum(not c.is_api for c in cases) >= 15
    plan = [(case, caller, expectation(case, caller)) for case in cases for caller in CALLERS]
    problems: list[str] = []

    async def run(rows: list[tuple[Case, str, str]], who: list[str]) -> None:
        async with contextlib.AsyncExitStack() as stack:  # clients close in reverse order
            clients = {}
            for name in who:
                clients[name] = await stack.enter_async_context(AsyncTestClient(app=app))
                await _login(clients[name], callers[name][1])
            for case, caller, expected in rows:
                shop, _, key = callers[caller]
                response = await _send(clients[caller], case, _target(case, shop.objects), key)
                wrong = _judge(case, caller, expected, response)
                if wrong:
                    problems.append(f"{case} as {caller}: {wrong} {response.text[:160]!r}")

    # First everything that must leave shops A and S alone, then the allowed calls.
    before = await _snapshot(shop_a.world.id, shop_s.world.id)
    refused = [row for row in plan if row[2] != "allowed"]
    await run(refused, list(CALLERS))
    assert not problems, "\n".join(problems)
    assert await _snapshot(shop_a.world.id, shop_s.world.id) == before, (
        "a refused request (or another shop's) changed shop A or S"
    )
    allowed = [row for row in plan if row[2] == "allowed"]
    await run(allowed, ["cashier", "manager", "owner", "platform_admin"])
    assert not problems, "\n".join(problems)
    assert len(allowed) >= len(cases)  # every route has at least its owner (or the admin)


def test_every_write_route_has_a_rule(app: Litestar) -> None:
    """A new write route without a role or admin guard would not be in the matrix."""
    for case in mutating_cases(app):
        assert case.role is not None or case.admin_only, f"{case}: no role guard"

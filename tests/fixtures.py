"""Fixtures shared by every test module: clean tables, two tenants, staff, API keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pluggy
import pytest

from loyalchat import db
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations import ratelimit
from loyalchat.pluginmanager import (
    build_plugin_manager,
    install_plugin_manager,
    uninstall_plugin_manager,
)
from loyalchat.tenants import accounts, apikeys, plugin_access
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import Role, TenantStatus

PASSWORD = "correct horse battery"


async def truncate_all() -> None:
    engine = db.current_engine()
    names = ", ".join(f'"{table._meta.tablename}"' for table in db.all_tables())
    await engine._run_in_new_connection(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session", autouse=True)
def plugins() -> Iterator[pluggy.PluginManager]:
    """The plugin manager of the tests' process (built from settings, as a worker does):
    what services called directly emit events to. Register a recorder on it, then
    unregister it."""
    pm = build_plugin_manager()
    install_plugin_manager(pm)
    yield pm
    uninstall_plugin_manager(pm)


@pytest.fixture(autouse=True)
async def clean_db(database: None) -> AsyncIterator[None]:
    """Every test starts with empty tables on the PostgreSQL test database (and no cached
    plugin choices or in-memory send buckets from a previous test's tenants)."""
    db.configure_database()
    await truncate_all()
    plugin_access.forget()
    ratelimit.forget()
    yield


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[object]:
    """Point every table at a fresh, migrated SQLite file for this test, then back."""
    from piccolo.engine.sqlite import SQLiteEngine

    engine = db.use_engine(SQLiteEngine(path=str(tmp_path / "loyalchat.db"), timeout=30))
    await db.migrate(engine)
    try:
        yield engine
    finally:
        db.configure_database()


@dataclass
class World:
    """A tenant with an owner, a cashier and a manager API key."""

    tenant: tenant_service.TenantInfo
    owner: accounts.StaffInfo
    cashier: accounts.StaffInfo
    api_key: str

    @property
    def id(self) -> int:
        return self.tenant.id


async def make_world(slug: str, status: TenantStatus = TenantStatus.active) -> World:
    tenant = await tenant_service.create_tenant(slug, slug.title(), status=status)
    owner = await accounts.create_staff_user(f"owner@{slug}.test", PASSWORD, display_name="Owner")
    cashier = await accounts.create_staff_user(f"cashier@{slug}.test", PASSWORD)
    with tenant_context(tenant.id, Actor("system")):
        await accounts.grant_role(owner.id, Role.owner)
        await accounts.grant_role(cashier.id, Role.cashier)
        issued = await apikeys.create_key(f"{slug} key", Role.manager, created_by=owner.id)
    return World(tenant=tenant, owner=owner, cashier=cashier, api_key=issued.key)


@pytest.fixture
async def tenant_a(clean_db: None) -> World:
    return await make_world("alpha-tea")


@pytest.fixture
async def tenant_b(clean_db: None) -> World:
    return await make_world("bravo-bakery")


@pytest.fixture
async def admin(clean_db: None) -> accounts.StaffInfo:
    return await accounts.create_staff_user("admin@platform.test", PASSWORD, is_platform_admin=True)

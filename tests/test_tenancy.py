"""Tenant context fails closed; tenant-owned tables carry the tenant in every unique index."""

from __future__ import annotations

import pytest

from loyalchat import db
from loyalchat.context import NoTenantContext, cross_tenant, tenant_context
from loyalchat.scoping import is_tenant_owned, scoped_select, unscoped
from loyalchat.tenants import apikeys, audit
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import ApiKey, Role
from tests.fixtures import World

# Platform-level tables (no tenant, or an optional one), by design: tenants themselves,
# staff accounts (a person may work for several shops), the audit log (platform actions
# have no tenant) and the plugins the platform offers to every tenant.
PLATFORM_TABLES = {
    "tenant",
    "staff_user",
    "audit_log",
    "platform_plugin",
    "channel_account",
    "billing_plan",  # the plans platform admins sell to every shop
    "billing_payment_event",  # a provider's event ids, kept before any shop is known
}
# Tables with a tenant column whose uniqueness is across tenants on purpose: a provider's
# object belongs to one shop only (a WhatsApp number, a WeChat account; a payment
# provider's payment, checkout session or customer), so one shop's webhook can never match
# another shop's row.
CROSS_TENANT_UNIQUE = {"channel_account", "billing_payment", "stripe_checkout", "stripe_customer"}


async def test_services_refuse_without_tenant(tenant_a: World) -> None:
    with pytest.raises(NoTenantContext):
        await apikeys.list_keys()
    with pytest.raises(NoTenantContext):
        await apikeys.create_key("x", Role.cashier)
    with pytest.raises(NoTenantContext):
        await audit.recent()
    with pytest.raises(NoTenantContext):
        scoped_select(ApiKey)


async def test_cross_tenant_bypass_is_explicit(tenant_a: World, tenant_b: World) -> None:
    with pytest.raises(PermissionError):
        await tenants.list_tenants()
    with pytest.raises(PermissionError):
        unscoped(ApiKey)
    with cross_tenant("test: platform admin overview"):
        slugs = [t.slug for t in await tenants.list_tenants()]
        assert len(await unscoped(ApiKey).select()) == 2
    assert slugs == ["alpha-tea", "bravo-bakery"]
    with pytest.raises(ValueError):
        with cross_tenant(""):
            pass


async def test_scoped_queries_see_only_their_tenant(tenant_a: World, tenant_b: World) -> None:
    with tenant_context(tenant_a.id):
        names = [k["name"] for k in await apikeys.list_keys()]
    assert names == ["alpha-tea key"]


def test_every_tenant_owned_table_has_non_null_tenant() -> None:
    for table in db.all_tables():
        name = table._meta.tablename
        if name in PLATFORM_TABLES:
            continue
        assert is_tenant_owned(table), f"{name}: needs a non-null tenant foreign key"


async def _unique_indexes_pg() -> list[tuple[str, str, str]]:
    rows = await db.current_engine()._run_in_new_connection(
        "SELECT t.relname AS tbl, i.relname AS idx, pg_get_indexdef(i.oid) AS def "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE x.indisunique AND NOT x.indisprimary AND n.nspname = 'public'"
    )
    return [(r["tbl"], r["idx"], r["def"]) for r in rows]


async def test_unique_indexes_include_tenant_on_postgres(tenant_a: World) -> None:
    indexes = await _unique_indexes_pg()
    owned = {t._meta.tablename for t in db.all_tables() if is_tenant_owned(t)}
    owned -= CROSS_TENANT_UNIQUE
    checked = [(tbl, idx, d) for tbl, idx, d in indexes if tbl in owned]
    assert checked, "expected composite unique indexes on tenant-owned tables"
    for tbl, idx, definition in checked:
        # "(tenant)" alone is a one-row-per-tenant table (member_counter, points_policy).
        assert "(tenant," in definition or definition.endswith("(tenant)"), (
            f"{tbl}.{idx} is unique without the tenant: {definition}"
        )


@pytest.mark.sqlite
async def test_unique_indexes_include_tenant_on_sqlite(sqlite_db) -> None:
    owned = {t._meta.tablename for t in db.all_tables() if is_tenant_owned(t)}
    owned -= CROSS_TENANT_UNIQUE
    seen = 0
    for table in owned:
        for index in await sqlite_db._run_in_new_connection(f"PRAGMA index_list('{table}')"):
            if not index["unique"] or index["origin"] == "pk":
                continue
            columns = [
                c["name"]
                for c in await sqlite_db._run_in_new_connection(
                    f"PRAGMA index_info('{index['name']}')"
                )
            ]
            assert columns[0] == "tenant", f"{table}.{index['name']} unique on {columns}"
            seen += 1
    assert seen >= 3


@pytest.mark.sqlite
async def test_same_migrations_and_services_on_sqlite(sqlite_db) -> None:
    tenant = await tenants.create_tenant("sqlite-shop", "SQLite Shop")
    with tenant_context(tenant.id):
        issued = await apikeys.create_key("till", Role.cashier)
        assert [k["name"] for k in await apikeys.list_keys()] == ["till"]
    principal = await apikeys.authenticate(issued.key)
    # The key is genuine; what the (not yet active) tenant may do is the guards' call
    # (tenants.access: 403 tenant_not_active).
    assert principal is not None and principal.tenant_id == tenant.id
    with pytest.raises(tenants.TenantError):
        await tenants.create_tenant("sqlite-shop", "again")

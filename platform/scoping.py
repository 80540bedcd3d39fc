"""Tenant-scoped queries: the only way services read or write tenant-owned rows.

Each helper reads the tenant from :mod:`loyalchat.context` and fails closed with
``NoTenantContext`` when none is set. Cross-tenant work goes through ``cross_tenant()``.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey
from piccolo.table import Table

from loyalchat.context import cross_tenant_reason, require_tenant


def is_tenant_owned(table: type[Table]) -> bool:
    column = getattr(table, "tenant", None)
    return isinstance(column, ForeignKey) and not column._meta.null


def _tenant_column(table: type[Table]) -> ForeignKey:
    column = getattr(table, "tenant", None)
    if not isinstance(column, ForeignKey):
        raise TypeError(f"{table.__name__} is not tenant-owned")
    return column


def scoped_select(table: type[Table], *columns: Any):
    return table.select(*columns).where(_tenant_column(table) == require_tenant())


def scoped_objects(table: type[Table]):
    return table.objects().where(_tenant_column(table) == require_tenant())


def scoped_count(table: type[Table]):
    return table.count().where(_tenant_column(table) == require_tenant())


def scoped_update(table: type[Table], values: dict, **kwargs: Any):
    return table.update(values, **kwargs).where(_tenant_column(table) == require_tenant())


def scoped_delete(table: type[Table]):
    return table.delete().where(_tenant_column(table) == require_tenant())


def new_row(table: type[Table], **values: Any) -> Table:
    """A row of a tenant-owned table, stamped with the current tenant."""
    return table(tenant=require_tenant(), **values)


def unscoped(table: type[Table]) -> type[Table]:
    """CROSS-TENANT: return ``table`` for a query over all tenants.

    Only allowed inside ``cross_tenant(reason)``; otherwise raises.
    """
    if cross_tenant_reason() is None:
        raise PermissionError(f"unscoped {table.__name__} query outside cross_tenant()")
    return table

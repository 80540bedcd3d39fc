"""Tenant-scoped queries: the only way services read or write tenant-owned rows.

Each helper reads the tenant from :mod:`loyalchat.context` and fails closed with
``NoTenantContext`` when none is set. Cross-tenant work goes through ``cross_tenant()``.
``tests/test_scope_ast.py`` holds the code to this: outside this module, a query on a
tenant-owned table must sit lexically inside ``with cross_tenant("reason"):``.
"""

from __future__ import annotations

import functools
from string import Formatter
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.table import Table

from loyalchat.context import cross_tenant_reason, current_tenant_id, require_tenant


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


def _row_tenant(row: Table) -> int | None:
    value = getattr(row, "tenant", None)
    return value.id if isinstance(value, Table) else value


def _check_rows(rows: tuple[Table, ...]) -> None:
    """Refuse rows of another tenant (or of none) unless inside ``cross_tenant()``."""
    if cross_tenant_reason() is not None:
        return
    for row in rows:
        if is_tenant_owned(type(row)) and _row_tenant(row) != require_tenant():
            raise PermissionError(f"{type(row).__name__} row of another tenant")


def scoped_insert(table: type[Table], *rows: Table):
    """``table.insert(*rows)`` for rows of the current tenant (see :func:`new_row`);
    the query is returned, so ``.returning()`` and ``.on_conflict()`` still chain."""
    _tenant_column(table)
    _check_rows(rows)
    return table.insert(*rows)


async def save_row(row: Table) -> Table:
    """``row.save()`` for a row of the current tenant (a new one from :func:`new_row`, or
    one read through these helpers); another tenant's row raises ``PermissionError``."""
    _check_rows((row,))
    await row.save()
    return row


async def remove_row(row: Table) -> None:
    """``row.remove()`` for a row of the current tenant."""
    _check_rows((row,))
    await row.remove()


def scoped_raw(table: type[Table], sql: str, *args: Any, tenant: int | None = None):
    """Raw SQL on tenant-owned rows: the one door for it.

    ``sql`` takes values as ``{}`` placeholders, and must name the tenant with at least one
    ``{tenant}`` placeholder (``WHERE tenant = {tenant}``); the tenant is bound as a
    parameter, never pasted in. It is the current tenant; a different ``tenant`` may be
    passed only inside ``cross_tenant()`` (a job that walks the tenants one by one).
    """
    if tenant is None:
        tenant = require_tenant()
    elif tenant != current_tenant_id() and cross_tenant_reason() is None:
        raise PermissionError("scoped_raw() for another tenant outside cross_tenant()")
    template, slots = _parsed(sql)
    if len(args) != len(slots) - slots.count(True):
        few = len(args) < len(slots) - slots.count(True)
        raise ValueError(f"scoped_raw(): {'fewer' if few else 'more'} values than placeholders")
    positional = iter(args)
    values = [tenant if is_tenant else next(positional) for is_tenant in slots]
    return table.raw(template, *values)


@functools.lru_cache(maxsize=1024)
def _parsed(sql: str) -> tuple[str, tuple[bool, ...]]:
    """``sql`` as Piccolo's template (``{}`` for each value) and, per placeholder, whether
    it is the tenant; parsed once per statement text (the hot paths send the same few)."""
    template, slots = [], []
    for literal, field, spec, conversion in Formatter().parse(sql):
        template.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        if spec or conversion or field not in ("", "tenant"):
            raise ValueError(f"scoped_raw(): use {{}} or {{tenant}}, not {{{field}}}")
        template.append("{}")
        slots.append(field == "tenant")
    if True not in slots:
        raise ValueError("scoped_raw(): the SQL must name the tenant as {tenant}")
    return "".join(template), tuple(slots)


def unscoped(table: type[Table]) -> type[Table]:
    """CROSS-TENANT: return ``table`` for a query over all tenants.

    Only allowed inside ``cross_tenant(reason)``; otherwise raises.
    """
    if cross_tenant_reason() is None:
        raise PermissionError(f"unscoped {table.__name__} query outside cross_tenant()")
    return table

"""Tenant scope by construction (DESIGN.md section 5, invariant 1; issue 8).

An AST walk over platform/, tenants/, plugins/ and frontend/ fails when a tenant-owned
table (every table with a non-null ``tenant`` foreign key) is queried, inserted, updated
or deleted anywhere but in ``platform/scoping.py``'s helpers, or lexically inside a
``with cross_tenant("reason"):`` block, or in one of the few justified exceptions below.
Raw SQL (``.raw(``) on any table and ``row.save()`` / ``row.remove()`` (the row's table
cannot be seen statically) count too: they go through ``scoped_raw()``, ``save_row()``
and ``remove_row()``. So every bypass is greppable: ``grep -rn cross_tenant``.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from loyalchat import db
from loyalchat.scoping import is_tenant_owned

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("platform", "tenants", "plugins", "frontend")
HELPERS = "platform/scoping.py"
QUERY_METHODS = {"select", "objects", "update", "delete", "insert", "count", "exists", "raw"}
ROW_METHODS = {"save", "remove"}  # with no arguments: Piccolo's row writes
BYPASS = "cross_tenant"

# (file, function) -> why raw SQL or a table query there needs no tenant. Keep it short.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("platform/members/search.py", "_has_trgm"): "reads pg_extension (is pg_trgm installed?)",
    ("platform/members/search.py", "_set_word_similarity"): "set_config() of pg_trgm's "
    "threshold for the transaction; no table is read",
}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    function: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}(): {self.what}"


def tenant_owned_names() -> set[str]:
    """Class names of every tenant-owned table of the registered Piccolo apps."""
    os.environ.setdefault("PICCOLO_CONF", db.PICCOLO_CONF)
    return {table.__name__ for table in db.all_tables() if is_tenant_owned(table)}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str, tables: set[str]) -> None:
        self.path = path
        self.tables = tables  # names that refer to a tenant-owned table in this module
        self.function: list[str] = []
        self.bypass = 0
        self.found: list[Violation] = []

    def _is_bypass(self, item: ast.withitem) -> bool:
        call = item.context_expr
        return isinstance(call, ast.Call) and _name(call.func) == BYPASS

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        bypass = any(self._is_bypass(item) for item in node.items)
        for item in node.items:
            self.visit(item)
        self.bypass += bypass
        for statement in node.body:
            self.visit(statement)
        self.bypass -= bypass

    visit_AsyncWith = visit_With  # type: ignore[assignment]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.function.append(node.name)
        # A nested function body runs later, not inside the enclosing with-block.
        bypass, self.bypass = self.bypass, 0
        self.generic_visit(node)
        self.bypass = bypass
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _refers_to_table(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call) and _name(node.func) == "unscoped":
            return True
        return _name(node) in self.tables

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        what = self._what(node)
        function = ".".join(self.function) or "<module>"
        if what and not self.bypass and (self.path, function) not in EXCEPTIONS:
            self.found.append(Violation(self.path, node.lineno, function, what))

    def _what(self, node: ast.Call) -> str | None:
        func = node.func
        if _name(func) == "unscoped" and isinstance(func, ast.Name | ast.Attribute):
            if not isinstance(func, ast.Attribute) or func.attr == "unscoped":
                return "unscoped() outside a cross_tenant() block"
        if not isinstance(func, ast.Attribute):
            return None
        if func.attr == "raw":
            return f"raw SQL on {_name(func.value)}: use scoped_raw()"
        if func.attr in QUERY_METHODS and self._refers_to_table(func.value):
            return f"{_name(func.value)}.{func.attr}() on a tenant-owned table"
        keywords = {keyword.arg for keyword in node.keywords}
        if func.attr in ROW_METHODS and not node.args and keywords <= {"columns"}:
            return f"row .{func.attr}(): use save_row() / remove_row()"
        return None


def check_source(source: str, path: str, tables: set[str]) -> list[Violation]:
    """The violations in one module's source (``path`` is relative to the repository)."""
    tree = ast.parse(source, filename=path)
    local = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            local |= {alias.asname or alias.name for alias in node.names if alias.name in tables}
        elif isinstance(node, ast.ClassDef) and node.name in tables:
            local.add(node.name)
    checker = _Checker(path, local | tables)
    checker.visit(tree)
    return checker.found


def scanned_files() -> list[Path]:
    files = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "piccolo_migrations" in path.parts or relative == HELPERS:
                continue
            if "node_modules" in path.parts:
                continue
            files.append(path)
    return files


@pytest.fixture(scope="module")
def tables() -> set[str]:
    names = tenant_owned_names()
    assert {"Member", "LedgerEntry", "Grant", "ApiKey", "StaffRole"} <= names
    assert "Tenant" not in names
    return names


def test_tenant_owned_tables_are_only_touched_through_scoping(tables: set[str]) -> None:
    files = scanned_files()
    assert len(files) > 50
    found = []
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        found += check_source(path.read_text(encoding="utf-8"), relative, tables)
    assert not found, "tenant-owned rows touched outside scoping helpers:\n" + "\n".join(
        map(str, found)
    )


def test_every_exception_still_exists(tables: set[str]) -> None:
    """A stale exception would silently excuse new code with the same name."""
    for (path, function), reason in EXCEPTIONS.items():
        assert reason
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert function in names, f"exception for {path}:{function}() names nothing"


BAD = """
from loyalchat.members.tables import Member as M
from loyalchat.ledger import tables

async def leak(member_id):
    await M.select().where(M.id == member_id)
    await tables.LedgerEntry.delete(force=True)
    await M.raw("SELECT * FROM member")
    row = await scoped_objects(M).first()
    await row.save()
    t = unscoped(M)

async def later():
    with cross_tenant("admin"):
        async def escape():
            await M.update({M.name: "x"}, force=True)
"""

GOOD = """
from loyalchat.members.tables import Member
from loyalchat.tenants.tables import Tenant

async def fine(member_id):
    await scoped_select(Member).where(Member.id == member_id)
    await save_row(new_row(Member, name="x"))
    await scoped_raw(Member, "SELECT id FROM member WHERE tenant = {tenant}")
    await Tenant.select(Tenant.slug)
    image.save(buffer, format="PNG")
    with cross_tenant("platform admin: every member count"):
        await Member.count()
        await unscoped(Member).select()
"""


def test_the_checker_catches_each_kind_of_bypass(tables: set[str]) -> None:
    found = check_source(BAD, "platform/bad.py", tables)
    assert [(v.line, v.what.split(" ")[0]) for v in found] == [
        (6, "M.select()"),
        (7, "LedgerEntry.delete()"),
        (8, "raw"),
        (10, "row"),
        (11, "unscoped()"),
        (16, "M.update()"),
    ]
    assert check_source(GOOD, "platform/good.py", tables) == []


async def test_scoped_raw_binds_the_current_tenant(tenant_a, tenant_b) -> None:
    from loyalchat.context import Actor, cross_tenant, tenant_context
    from loyalchat.scoping import scoped_raw
    from loyalchat.tenants.tables import ApiKey

    sql = "SELECT name FROM api_key WHERE tenant = {tenant} AND name <> {}"
    with tenant_context(tenant_a.id, Actor("system")):
        assert await scoped_raw(ApiKey, sql, "x") == [{"name": "alpha-tea key"}]
        with pytest.raises(ValueError, match="must name the tenant"):
            scoped_raw(ApiKey, "SELECT name FROM api_key WHERE name <> {}", "x")
        with pytest.raises(ValueError, match="more values"):
            scoped_raw(ApiKey, sql, "x", "y")
        with pytest.raises(PermissionError):
            scoped_raw(ApiKey, sql, "x", tenant=tenant_b.id)
        with cross_tenant("test: one named tenant"):
            rows = await scoped_raw(ApiKey, sql, "x", tenant=tenant_b.id)
        assert rows == [{"name": "bravo-bakery key"}]
    with pytest.raises(Exception, match="no tenant"):
        scoped_raw(ApiKey, sql, "x")


async def test_rows_of_another_tenant_are_not_saved(tenant_a, tenant_b) -> None:
    from loyalchat.context import Actor, tenant_context
    from loyalchat.scoping import new_row, save_row, scoped_insert
    from loyalchat.tenants.tables import ApiKey

    with tenant_context(tenant_b.id, Actor("system")):
        row = await ApiKey.objects().where(ApiKey.tenant == tenant_b.id).first()
        foreign = new_row(ApiKey, name="planted", prefix="p", key_hash="h", role="cashier")
    with tenant_context(tenant_a.id, Actor("system")):
        row.name = "renamed by A"
        with pytest.raises(PermissionError):
            await save_row(row)
        with pytest.raises(PermissionError):
            scoped_insert(ApiKey, foreign)
    assert await ApiKey.count().where(ApiKey.name == "renamed by A") == 0

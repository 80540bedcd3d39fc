"""No import circles among loyalchat's modules (issue 9).

Walks every module's imports, those deferred into a function included (a lazy import
hides a circle, it does not break it; only ``if TYPE_CHECKING:`` blocks are skipped), and
finds strongly connected components. A circle means two modules cannot be understood,
tested or moved apart; break it by moving what both need below them, or by passing the
object instead of importing its maker.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Folder -> import package, as setup.py maps them.
PACKAGES = {
    "platform": "loyalchat",
    "tenants": "loyalchat.tenants",
    "billing": "loyalchat.billing",
    "onboarding": "loyalchat.onboarding",
    "plugins": "loyalchat.plugins",
    "frontend": "loyalchat.frontend",
}
SKIP_PARTS = {"__pycache__", "node_modules", "piccolo_migrations"}
# Circles another change is still breaking up. Empty is the goal: delete an entry once its
# circle is gone.
KNOWN: list[set[str]] = []


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, package in PACKAGES.items():
        base = ROOT / folder
        for path in base.rglob("*.py"):
            rel = path.relative_to(base)
            if SKIP_PARTS & set(rel.parts):
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([package, *parts]) if parts else package
            # platform/tenants would shadow the tenants folder: setup.py maps folders first.
            found.setdefault(name, path)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is, except under ``if TYPE_CHECKING:``."""
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            typing_only |= {id(inner) for inner in ast.walk(node)}
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in typing_only
    ]


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
            continue
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            child = f"{source}.{alias.name}"
            targets.add(child if child in known else source)
    return {target for target in targets if target in known and target != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_walker_finds_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [{"a", "b", "c"}]


def test_the_graph_covers_the_code() -> None:
    edges = graph()
    assert "loyalchat.rewards.service" in edges and "loyalchat.tenants.plugin_settings" in edges
    assert "loyalchat.extensions.base" in edges["loyalchat.extensions.rewards"]


def test_no_import_circles() -> None:
    found = [sorted(component) for component in cycles(graph()) if component not in KNOWN]
    assert not found, "import circles (break them; see this module's docstring):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )


def test_extensions_and_hookspecs_never_import_the_plugin_manager() -> None:
    """The families are below the manager: they are handed one, they never fetch one."""
    edges = graph()
    for name, targets in edges.items():
        if name.startswith(("loyalchat.extensions", "loyalchat.hookspecs")):
            assert "loyalchat.pluginmanager" not in targets, name
    settings = edges["loyalchat.extensions.settings_fields"]
    assert not {t for t in settings if t.startswith("loyalchat.extensions.")} - {
        "loyalchat.extensions.base"
    }, "settings_fields imports a family"

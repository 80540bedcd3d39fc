"""Which way imports go between the layers (issue 9): the core never reaches up.

The core (``platform/``, ``tenants/``, ``billing/``, ``onboarding/``) and the plugins never
import the HTML frontend: locale handling, ``N_`` and the catalogues are the core's
(``loyalchat.i18n``); only the app factory, the composition root, wires the page routes in.
The synthetic receipt generator is a tool: only the CLI command imports it, never the
running service. Every import counts, those deferred into a function included.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_FOLDERS = ("platform", "tenants", "billing", "onboarding", "plugins")
# The one core module that may import loyalchat.frontend: it wires the web routes.
FRONTEND_ALLOWED = {"platform/app.py"}
# Runtime code never imports the tools; the CLI command that runs one does.
TOOLS_ALLOWED_UNDER = ("platform/tools/", "platform/commands/")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _core_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in CORE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                found[path.relative_to(ROOT).as_posix()] = path
    return found


def _importers_of(prefix: str) -> set[str]:
    return {
        rel
        for rel, path in _core_files().items()
        if any(name == prefix or name.startswith(prefix + ".") for name in _imported(path))
    }


def test_the_core_never_imports_the_frontend() -> None:
    assert _importers_of("loyalchat.frontend") <= FRONTEND_ALLOWED


def test_runtime_code_never_imports_the_tools() -> None:
    outside = {
        rel for rel in _importers_of("loyalchat.tools") if not rel.startswith(TOOLS_ALLOWED_UNDER)
    }
    assert outside == set()
    assert _importers_of("loyalchat.tools") & {"platform/commands/synth.py"}, "walker sees nothing"


def test_the_walker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from loyalchat.frontend import web\n")
    assert "loyalchat.frontend" in _imported(module)

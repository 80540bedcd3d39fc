"""Every hookspec is documented for plugin authors, and has a docstring."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from loyalchat import hookspecs
from loyalchat.hookimpl import PROJECT

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def all_hookspecs() -> list[tuple[str, object]]:
    return [
        (name, function)
        for module in hookspecs.MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if hasattr(function, f"{PROJECT}_spec")
    ]


def documented_hooks() -> set[str]:
    return set(re.findall(r"^### (\w+)\s*$", DOCS.read_text(), flags=re.MULTILINE))


def test_every_family_has_hooks() -> None:
    names = {name for name, _ in all_hookspecs()}
    assert {
        "register_channels",
        "register_ocr_engines",
        "register_receipt_parsers",
        "register_receipt_checks",
        "register_reward_types",
        "register_payment_providers",
        "register_tenant_settings",
        "register_routes",
        "register_piccolo_apps",
        "register_commands",
        "on_event",
    } <= names


@pytest.mark.parametrize(
    "name, function", all_hookspecs(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_hookspec_is_documented(name: str, function: object) -> None:
    assert name in documented_hooks(), f"docs/plugins.md has no '### {name}' section"
    doc = inspect.getdoc(function) or ""
    assert "Called" in doc and "eturn" in doc, f"{name}: say when it is called and what it returns"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    assert documented_hooks() <= {name for name, _ in all_hookspecs()}


# The families docs/plugins.md ("Which hooks have a host yet") says nothing calls yet.
NO_HOST_YET: dict[str, str] = {}  # billing hosts register_payment_providers (issue 12)
# Where a family is only collected, listed or looked up, not used.
NOT_A_HOST = {"tenants/plugin_access.py", "frontend/pages/admin/plugins.py"}


def test_the_hooks_marked_without_a_host_have_none() -> None:
    """When a host starts calling one of these, update the table in docs/plugins.md."""
    root = DOCS.parent.parent
    text = DOCS.read_text()
    for getter, hook in NO_HOST_YET.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{hook}`"))
        assert "no host yet" in row, row
        callers = [
            rel
            for folder in ("platform", "tenants", "frontend", "billing", "onboarding")
            for path in (root / folder).rglob("*.py")
            if f"{getter}(" in path.read_text(encoding="utf-8")
            and not (rel := str(path.relative_to(root))).startswith("platform/extensions/")
            and rel not in NOT_A_HOST
        ]
        assert not callers, f"{hook} has a host now ({callers}): update docs/plugins.md"

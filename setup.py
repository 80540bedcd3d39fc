"""Map the top-level folders onto the ``loyalchat`` import package.

``platform/`` becomes ``loyalchat`` and has no ``__init__.py`` (a PEP 420 namespace
root), so the standard library's ``platform`` module is never shadowed from the repo root.
Subpackages are discovered so that nested ones are never silently left out of a wheel.
"""

from setuptools import find_namespace_packages, setup

PACKAGE_DIR = {
    "loyalchat": "platform",
    "loyalchat.tenants": "tenants",
    "loyalchat.billing": "billing",
    "loyalchat.onboarding": "onboarding",
    "loyalchat.plugins": "plugins",
    "loyalchat.frontend": "frontend",
}
EXCLUDE = ["*__pycache__*", "node_modules*", "*.node_modules*"]


def _packages() -> list[str]:
    found: list[str] = []
    for package, folder in PACKAGE_DIR.items():
        found.append(package)
        found += [
            f"{package}.{sub}" for sub in find_namespace_packages(where=folder, exclude=EXCLUDE)
        ]
    return found


setup(package_dir=PACKAGE_DIR, packages=_packages())

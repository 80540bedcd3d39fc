"""Hook specifications, one module per family (see docs/plugins.md)."""

from loyalchat.hookspecs import app

MODULES = [app]

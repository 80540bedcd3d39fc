"""Hook specifications, one module per family (see docs/plugins.md)."""

from loyalchat.hookspecs import app, channels, ocr, payments, receipts, rewards, tenant_settings

MODULES = [app, channels, ocr, receipts, rewards, payments, tenant_settings]

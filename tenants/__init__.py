"""Tenants, staff accounts and roles, API keys, per-tenant plugin settings, audit log."""

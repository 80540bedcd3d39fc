"""The platform-admin area (``/admin/...``): every tenant and the platform's health."""

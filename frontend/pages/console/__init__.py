"""The merchant console (``/console/...``): pages for the shop's staff, by role."""

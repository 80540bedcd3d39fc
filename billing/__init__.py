"""Plans, subscriptions, usage and payment records (payment providers come from plugins)."""

"""Tools for developers and benchmarks, not part of the running service.

Nothing in the app, the worker or the domains imports from here; the CLI, ``bench/`` and
the tests do. ``receipt_synth`` makes labelled synthetic receipt photos for the reading
engine's tests and benchmark (``loyalchat receipts synth``).
"""

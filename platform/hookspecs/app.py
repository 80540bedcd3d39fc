"""Hooks that extend the application itself: routes, tables, CLI commands, events."""

from __future__ import annotations

from typing import Any

from loyalchat.hookimpl import hookspec


@hookspec
def register_piccolo_apps() -> list[str] | None:
    """Called when the database layer is configured (app start, ``loyalchat migrate``).

    Return module paths of the plugin's own Piccolo apps (``piccolo_app.py`` modules),
    e.g. ``["loyalchat_line.piccolo_app"]``, or None. Their migrations run with
    ``loyalchat migrate``.
    """


@hookspec
def register_routes() -> list[Any] | None:
    """Called once by ``create_app()``.

    Return extra Litestar route handlers or routers (webhook endpoints, plugin pages),
    or None.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Called when the ``loyalchat`` CLI is built; ``cli`` is the click group to add to.

    Add subcommands with ``cli.add_command(...)``. Return nothing.
    """


@hookspec
def on_event(event: Any) -> Any:
    """Called for every domain event (member_joined, points_credited, tenant_approved...).

    ``event`` is a :class:`loyalchat.events.DomainEvent`. Return nothing, or an awaitable
    that the host awaits; an exception is logged and never breaks the caller.
    """

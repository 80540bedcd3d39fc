"""What plugin authors import: ``from loyalchat.hookimpl import hookimpl``."""

import pluggy

PROJECT = "loyalchat"

hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec"]

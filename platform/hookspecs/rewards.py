"""Hooks for reward types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from loyalchat.hookimpl import hookspec

if TYPE_CHECKING:
    from loyalchat.extensions.rewards import RewardType


@hookspec
def register_reward_types(register: Callable[[RewardType], None]) -> None:
    """Called when rewards are created, redeemed or used, to find what a reward kind does.

    Call ``register(reward_type)`` once per kind. ``reward_type`` implements
    :class:`loyalchat.extensions.rewards.RewardType`: a unique ``kind``, its
    ``option_fields``, and async ``issue``, ``describe`` and ``mark_used``. Return nothing.
    """

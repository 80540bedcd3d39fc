"""Reward types (coupon, stored value, free item...): issue a grant, describe it, use it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pluggy

from loyalchat.extensions.base import Registry, collect
from loyalchat.extensions.settings_fields import SettingField


class RewardError(Exception):
    """A grant cannot be issued or used; the message is fit to show staff."""


@dataclass(frozen=True, slots=True)
class Grant:
    """A reward granted to a member. ``data`` is what ``issue()`` returned, kept with it."""

    tenant_id: int
    grant_id: int
    reward_id: int
    member_id: int
    options: Mapping[str, Any]  # the reward's options (see ``option_fields``)
    code: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Issued:
    code: str = ""  # empty: the host makes a random code
    data: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


@runtime_checkable
class RewardType(Protocol):
    kind: str  # "coupon", "stored_value"...: stored on each reward
    label: str
    option_fields: Sequence[SettingField]  # what staff fill in per reward

    async def issue(self, grant: Grant) -> Issued:
        """Called inside the redemption, after points are deducted; must be idempotent."""
        ...

    async def describe(self, grant: Grant, locale: str) -> str:
        """One line for the member's wallet and the chat reply."""
        ...

    async def mark_used(self, grant: Grant) -> None:
        """Called when staff scan or type the code; raise :class:`RewardError` to refuse."""
        ...


def get_reward_types(pm: pluggy.PluginManager | None = None) -> Registry[RewardType]:
    """Every registered reward type, by ``kind``."""
    return collect(pm, "register_reward_types", RewardType, what="reward type", key="kind")

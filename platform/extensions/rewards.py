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


@dataclass(frozen=True, slots=True)
class GrantDisplay:
    """How the member's wallet (and later the chat) shows a grant the member holds."""

    code: str = ""  # the code to show, as stored ("" shows none)
    qr: bool = False  # also draw it as a QR code (``LCG:<code>``) for the cashier to scan
    label: str = ""  # a short line beside it, in the grant's language ("" for none)


@runtime_checkable
class RewardType(Protocol):
    kind: str  # "coupon", "stored_value"...: stored on each reward
    label: str
    option_fields: Sequence[SettingField]  # what staff fill in per reward
    # True: the grant is ``used`` the moment it is issued (nothing left to use or void).
    consumed_on_issue: bool

    def validate_options(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Check and normalise a reward's options when staff save it (after the host
        checked ``option_fields``); raise :class:`RewardError` or ``ValueError`` with a
        message for staff. Return ``options`` unchanged when there is nothing to add."""
        ...

    async def issue(self, grant: Grant) -> Issued:
        """Called inside the redemption's transaction, before the points are deducted.

        The transaction may still roll back (a short balance, or a neighbouring redemption
        of the same member failing in a shared transaction, after which this grant is
        issued again with a new id): keep effects inside the database, or make them
        idempotent and harmless when the grant never commits."""
        ...

    async def describe(self, grant: Grant, locale: str) -> str:
        """One line for the member's wallet and the chat reply."""
        ...

    async def mark_used(self, grant: Grant) -> None:
        """Called when staff scan or type the code; raise :class:`RewardError` to refuse."""
        ...

    async def display(self, grant: Grant, locale: str) -> GrantDisplay:
        """How the wallet shows the grant: its code, whether as a QR code, a label."""
        ...


def get_reward_types(pm: pluggy.PluginManager) -> Registry[RewardType]:
    """Every registered reward type, by ``kind``."""
    return collect(pm, "register_reward_types", RewardType, what="reward type", key="kind")

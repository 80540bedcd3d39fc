"""Input and output types of the rewards service.

Inputs are msgspec structs, so a controller can decode a JSON body straight into them;
``RewardUpdate`` leaves a field ``UNSET`` to keep it (``None`` means "no limit").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

UNSET = msgspec.UNSET


class RewardCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new catalogue entry. ``name``/``description``: a text or ``{zh-Hant, zh-Hans, en}``."""

    name: dict[str, str] | str
    points_cost: int
    type: str
    description: dict[str, str] | str = msgspec.field(default_factory=dict)
    image: str = ""  # a media key, or ""
    options: dict[str, Any] = msgspec.field(default_factory=dict)  # the type's option_fields
    stock: int | None = None  # None: unlimited
    per_member_limit: int | None = None  # None: no limit
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    validity_days: int | None = None  # of each grant; None: never expires
    active: bool = True
    position: int = 0


class RewardUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A partial change; fields left ``UNSET`` keep their value."""

    name: dict[str, str] | str | msgspec.UnsetType = UNSET
    description: dict[str, str] | str | msgspec.UnsetType = UNSET
    image: str | msgspec.UnsetType = UNSET
    points_cost: int | msgspec.UnsetType = UNSET
    type: str | msgspec.UnsetType = UNSET
    options: dict[str, Any] | msgspec.UnsetType = UNSET
    stock: int | msgspec.UnsetType | None = UNSET
    per_member_limit: int | msgspec.UnsetType | None = UNSET
    starts_at: datetime | msgspec.UnsetType | None = UNSET
    ends_at: datetime | msgspec.UnsetType | None = UNSET
    validity_days: int | msgspec.UnsetType | None = UNSET
    active: bool | msgspec.UnsetType = UNSET
    position: int | msgspec.UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        """The fields that were given, by name."""
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if getattr(self, name) is not UNSET
        }


class RewardOut(msgspec.Struct, kw_only=True, frozen=True):
    """A catalogue entry as stored. ``type`` is the reward type's kind (``"coupon"``)."""

    id: int
    name: dict[str, str]
    description: dict[str, str]
    image: str
    points_cost: int
    type: str
    options: dict[str, Any]
    stock: int | None
    per_member_limit: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    validity_days: int | None
    active: bool
    position: int
    created_at: datetime
    updated_at: datetime

    def available(self, at: datetime) -> bool:
        """Active, inside its window at ``at``, and not sold out."""
        return (
            self.active
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
            and (self.stock is None or self.stock > 0)
        )


class GrantOut(msgspec.Struct, kw_only=True, frozen=True):
    """A redemption's grant: what the member holds and the cashier checks.

    ``qr_payload`` is what the coupon's QR code encodes (``LCG:<code>``); ``description``
    is the reward type's one line in the member's language; ``replayed`` is True when a
    redemption with the same idempotency key already existed and this is its grant.
    """

    id: int
    code: str
    status: str
    reward_id: int
    reward_name: dict[str, str]
    reward_type: str
    member_id: int
    points_cost: int
    issued_at: datetime
    expires_at: datetime | None
    used_at: datetime | None
    used_by_label: str
    voided_at: datetime | None
    void_reason: str
    data: dict[str, Any]
    description: str
    qr_payload: str
    replayed: bool = False

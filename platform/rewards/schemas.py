"""Input and output types of the rewards service.

Inputs are msgspec structs, so a controller can decode a JSON body straight into them;
``RewardUpdate`` leaves a field ``UNSET`` to keep it (``None`` means "no limit").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from loyalchat.bounds import DATE_PATTERN, INT32_MAX, INT32_MIN
from loyalchat.extensions.rewards import GrantDisplay

UNSET = msgspec.UNSET

# What the decoder enforces is what the OpenAPI document states (loyalchat.openapi_inputs);
# the catalogue service checks the same bounds for callers that build structs directly.
MAX_POINTS_COST = 100_000_000  # the ledger's per-entry limit: a dearer reward can't be redeemed
MAX_VALIDITY_DAYS = 3650  # ten years: grant expiry stays a real date
MAX_NAME = 200
MAX_DESCRIPTION = 2000
_Language = Literal["zh-Hant", "zh-Hans", "en"]
Name = Annotated[
    dict[_Language, Annotated[str, msgspec.Meta(max_length=MAX_NAME)]]
    | Annotated[str, msgspec.Meta(max_length=MAX_NAME)],
    msgspec.Meta(description="A text, or {zh-Hant, zh-Hans, en}; at least one language not blank."),
]
Description = (
    dict[_Language, Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION)]]
    | Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION)]
)
ImageKey = Annotated[
    str, msgspec.Meta(max_length=255, description='A media key of this shop\'s pictures, or "".')
]
TypeKind = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=64, description="An installed reward type (a plugin)."),
]
Options = Annotated[dict[str, Any], msgspec.Meta(description="The reward type's option fields.")]
PointsCost = Annotated[int, msgspec.Meta(ge=1, le=MAX_POINTS_COST)]
Stock = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]
PerMemberLimit = Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)]
ValidityDays = Annotated[int, msgspec.Meta(ge=1, le=MAX_VALIDITY_DAYS)]
Position = Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]
# The year range (loyalchat.bounds) is checked by the catalogue service, which names the
# field in ``invalid_reward``; the document states it as a pattern on the year.
Moment = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="With a time zone, in the years 2000 to 2999; ends_at after starts_at.",
        extra_json_schema={"extra": {"pattern": DATE_PATTERN}},
    ),
]


class RewardCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new catalogue entry. ``name``/``description``: a text or ``{zh-Hant, zh-Hans, en}``."""

    name: Name
    points_cost: PointsCost
    type: TypeKind
    description: Description = msgspec.field(default_factory=dict)
    image: ImageKey = ""  # a media key, or ""
    options: Options = msgspec.field(default_factory=dict)  # the type's option_fields
    stock: Stock | None = None  # None: unlimited
    per_member_limit: PerMemberLimit | None = None  # None: no limit
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    validity_days: ValidityDays | None = None  # of each grant; None: never expires
    active: bool = True
    position: Position = 0


class RewardUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A partial change; fields left ``UNSET`` keep their value."""

    name: Name | msgspec.UnsetType = UNSET
    description: Description | msgspec.UnsetType = UNSET
    image: ImageKey | msgspec.UnsetType = UNSET
    points_cost: PointsCost | msgspec.UnsetType = UNSET
    type: TypeKind | msgspec.UnsetType = UNSET
    options: Options | msgspec.UnsetType = UNSET
    stock: Stock | msgspec.UnsetType | None = UNSET
    per_member_limit: PerMemberLimit | msgspec.UnsetType | None = UNSET
    starts_at: Moment | msgspec.UnsetType | None = UNSET
    ends_at: Moment | msgspec.UnsetType | None = UNSET
    validity_days: ValidityDays | msgspec.UnsetType | None = UNSET
    active: bool | msgspec.UnsetType = UNSET
    position: Position | msgspec.UnsetType = UNSET

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
    is the reward type's one line in the member's language; ``display`` is how the wallet
    shows it (the reward type's ``display()``: code, QR code or not, label); ``replayed``
    is True when a redemption with the same idempotency key already existed and this is
    its grant.
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
    display: GrantDisplay = GrantDisplay()
    replayed: bool = False

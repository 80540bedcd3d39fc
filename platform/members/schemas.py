"""Input and output types of the members service.

Inputs are msgspec structs, so a controller can decode a JSON body straight into them
(``msgspec.json.decode(body, type=MemberUpdate)``). ``MemberUpdate`` leaves a field
``UNSET`` to keep it; ``birthday=None`` clears the birthday, ``phone=""`` clears the phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from loyalchat.members.profile import MAX_NAME, MAX_NOTES, MAX_TAG, MAX_TAGS

UNSET = msgspec.UNSET

# The profile fields a member has, in the order forms show them.
PROFILE_FIELDS = (
    "name",
    "phone",
    "email",
    "birthday",
    "notes",
    "tags",
    "marketing_opt_in",
    "locale",
)


# The limits loyalchat.members.profile enforces, stated where the decoder and the OpenAPI
# document see them. Rules a schema cannot state (a real phone number, an address shape,
# a past birthday) are in the descriptions; the service answers them with invalid_<field>.
Name = Annotated[str, msgspec.Meta(max_length=MAX_NAME, description="Printable text.")]
Phone = Annotated[
    str,
    msgspec.Meta(
        max_length=40,
        description='A valid phone number as typed ("9123 4567" in a HK shop), or "".',
    ),
]
Email = Annotated[
    str, msgspec.Meta(max_length=254, description='An address like someone@example.com, or "".')
]
Birthday = Annotated[date, msgspec.Meta(description="From 1900-01-01, not in the future.")]
Notes = Annotated[str, msgspec.Meta(max_length=MAX_NOTES)]
Tags = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=MAX_TAG)]],
    msgspec.Meta(max_length=MAX_TAGS, description="Short printable labels."),
]
Locale = Literal["", "zh-Hant", "zh-Hans", "en"]


class MemberCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A new member; every field may be left out (a chat join knows nothing yet)."""

    name: Name = ""
    phone: Phone = ""  # as typed; stored in E.164 ("9123 4567" in a HK shop -> "+85291234567")
    email: Email = ""
    birthday: Birthday | None = None
    notes: Notes = ""
    tags: Tags = msgspec.field(default_factory=list)
    marketing_opt_in: bool = False
    locale: Locale = ""  # "" = the tenant's language


class MemberUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A partial change; fields left ``UNSET`` keep their value."""

    name: Name | msgspec.UnsetType = UNSET
    phone: Phone | msgspec.UnsetType = UNSET
    email: Email | msgspec.UnsetType = UNSET
    birthday: Birthday | msgspec.UnsetType | None = UNSET
    notes: Notes | msgspec.UnsetType = UNSET
    tags: Tags | msgspec.UnsetType = UNSET
    marketing_opt_in: bool | msgspec.UnsetType = UNSET
    locale: Locale | msgspec.UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        """The fields that were given, by name."""
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if getattr(self, name) is not UNSET
        }


@dataclass(frozen=True, slots=True)
class MemberOut:
    """A member as services, the API and pages see it.

    ``points`` and ``stored_value`` are the ledgers' cached balances. A merged member keeps
    its number (old links still resolve) with ``status="merged"`` and ``merged_into`` set
    to the id of the member that absorbed it.
    """

    id: int
    member_no: str
    name: str
    phone: str  # E.164 or ""
    email: str
    birthday: date | None
    notes: str
    tags: tuple[str, ...]
    marketing_opt_in: bool
    locale: str
    verified: bool
    status: str
    points: int
    stored_value: Decimal
    joined_at: datetime
    merged_into: int | None = None


@dataclass(frozen=True, slots=True)
class IdentityOut:
    """How a member is known on one channel (a WhatsApp BSUID or phone, a WeChat OpenID...)."""

    id: int
    member_id: int
    channel: str
    external_id: str
    created_at: datetime

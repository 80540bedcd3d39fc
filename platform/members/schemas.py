"""Input and output types of the members service.

Inputs are msgspec structs, so a controller can decode a JSON body straight into them
(``msgspec.json.decode(body, type=MemberUpdate)``). ``MemberUpdate`` leaves a field
``UNSET`` to keep it; ``birthday=None`` clears the birthday, ``phone=""`` clears the phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

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


class MemberCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A new member; every field may be left out (a chat join knows nothing yet)."""

    name: str = ""
    phone: str = ""  # as typed; stored in E.164 ("9123 4567" in a HK shop -> "+85291234567")
    email: str = ""
    birthday: date | None = None
    notes: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    marketing_opt_in: bool = False
    locale: str = ""  # "" = the tenant's language


class MemberUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A partial change; fields left ``UNSET`` keep their value."""

    name: str | msgspec.UnsetType = UNSET
    phone: str | msgspec.UnsetType = UNSET
    email: str | msgspec.UnsetType = UNSET
    birthday: date | msgspec.UnsetType | None = UNSET
    notes: str | msgspec.UnsetType = UNSET
    tags: list[str] | msgspec.UnsetType = UNSET
    marketing_opt_in: bool | msgspec.UnsetType = UNSET
    locale: str | msgspec.UnsetType = UNSET

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

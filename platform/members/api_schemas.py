"""What the JSON API shows of a member, and the examples the OpenAPI schema carries.

Inputs are the service's own ``MemberCreate`` / ``MemberUpdate``; the output is its own
type, so the API speaks ``member_no`` (never the internal id) and shows money as text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar.openapi.spec import Example

from loyalchat.members.schemas import MemberOut

MEMBER_NO = msgspec.Meta(description="The shop's member number.", examples=["M000123"])


class Member(msgspec.Struct, kw_only=True):
    """A member of the shop's programme."""

    member_no: Annotated[str, MEMBER_NO]
    name: Annotated[str, msgspec.Meta(examples=["陳大文"])]
    phone: Annotated[
        str, msgspec.Meta(description="E.164, or empty when unknown.", examples=["+85291234567"])
    ]
    email: Annotated[str, msgspec.Meta(examples=["tai.man@example.com"])]
    birthday: date | None
    notes: str
    tags: Annotated[list[str], msgspec.Meta(examples=[["vip"]])]
    marketing_opt_in: bool
    locale: Annotated[
        str, msgspec.Meta(description='"zh-Hant", "zh-Hans", "en", or "" for the shop\'s.')
    ]
    verified: Annotated[
        bool, msgspec.Meta(description="A name and a contact are on file.", examples=[True])
    ]
    status: Annotated[
        str,
        msgspec.Meta(
            description='"active", or "merged" (folded into another member).',
            examples=["active"],
        ),
    ]
    points: Annotated[int, msgspec.Meta(description="Points balance.", examples=[1250])]
    stored_value: Annotated[
        str,
        msgspec.Meta(
            description="Stored-value balance in the shop's currency, a decimal string.",
            examples=["150.00"],
        ),
    ]
    joined_at: datetime


def member_json(member: MemberOut) -> Member:
    return Member(
        member_no=member.member_no,
        name=member.name,
        phone=member.phone,
        email=member.email,
        birthday=member.birthday,
        notes=member.notes,
        tags=list(member.tags),
        marketing_opt_in=member.marketing_opt_in,
        locale=member.locale,
        verified=member.verified,
        status=member.status,
        points=member.points,
        stored_value=f"{member.stored_value:.2f}",
        joined_at=member.joined_at,
    )


CREATE_EXAMPLES = [
    Example(
        summary="A member signing up at the till",
        value={"name": "陳大文", "phone": "9123 4567", "marketing_opt_in": True},
    ),
    Example(summary="A member known only by e-mail", value={"email": "tai.man@example.com"}),
]
UPDATE_EXAMPLES = [
    Example(summary="Change the phone number", value={"phone": "+852 6123 4567"}),
    Example(summary="Clear the birthday", value={"birthday": None}),
]

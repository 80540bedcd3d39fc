"""Tenant-scoped reads of member rows, and turning rows into output types.

Shared by the service, search and merge modules; every query goes through
``loyalchat.scoping`` and so fails closed without a tenant.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from loyalchat.domain import DomainError, NotFound
from loyalchat.members import profile
from loyalchat.members.schemas import IdentityOut, MemberOut
from loyalchat.members.tables import Member, MemberStatus
from loyalchat.scoping import scoped_select, scoped_update


def member_out(row: dict[str, Any]) -> MemberOut:
    tags = row["tags"]
    if isinstance(tags, str):  # Piccolo hands JSON columns back as text
        tags = json.loads(tags or "[]")
    return MemberOut(
        id=row["id"],
        member_no=row["member_no"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        birthday=row["birthday"],
        notes=row["notes"],
        tags=tuple(tags or ()),
        marketing_opt_in=bool(row["marketing_opt_in"]),
        locale=row["locale"],
        verified=bool(row["verified"]),
        status=row["status"],
        points=row["points"],
        stored_value=Decimal(row["stored_value"]),
        joined_at=row["joined_at"],
        merged_into=row["merged_into"],
    )


def identity_out(row: dict[str, Any]) -> IdentityOut:
    return IdentityOut(
        id=row["id"],
        member_id=row["member"],
        channel=row["channel"],
        external_id=row["external_id"],
        created_at=row["created_at"],
    )


def derived(fields: dict[str, Any], member_no: str) -> dict[str, Any]:
    """The columns computed from the profile: written together with it on every change."""
    return {
        "verified": profile.is_verified(fields["name"], fields["phone"], fields["email"]),
        "search_text": profile.search_text(
            fields["name"], fields["phone"], fields["email"], member_no
        ),
    }


def profile_of(row: dict[str, Any]) -> dict[str, Any]:
    """The profile fields of a row, tags as a list."""
    out = member_out(row)
    return {
        "name": out.name,
        "phone": out.phone,
        "email": out.email,
        "birthday": out.birthday,
        "notes": out.notes,
        "tags": list(out.tags),
        "marketing_opt_in": out.marketing_opt_in,
        "locale": out.locale,
    }


async def row_by_no(member_no: str) -> dict[str, Any]:
    """The current tenant's member with this number (merged ones too), or ``NotFound``."""
    row = await scoped_select(Member).where(Member.member_no == (member_no or "").strip()).first()
    if row is None:
        raise NotFound("member not found")
    return row


async def row_by_id(member_id: int) -> dict[str, Any]:
    row = await scoped_select(Member).where(Member.id == member_id).first()
    if row is None:
        raise NotFound("member not found")
    return row


async def lock_row(member_id: int) -> dict[str, Any]:
    """Lock the member row for the rest of the transaction and read it fresh.

    A no-op UPDATE rather than SELECT ... FOR UPDATE: the same statement locks the row on
    PostgreSQL and runs on SQLite, whose immediate transaction already serialises writers.
    """
    rows = (
        await scoped_update(Member, {Member.updated_at: datetime.now(UTC)})
        .where(Member.id == member_id)
        .returning(*Member.all_columns())
    )
    if not rows:
        raise NotFound("member not found")
    return rows[0]


def refuse_merged(row: dict[str, Any]) -> None:
    if row["status"] == MemberStatus.merged.value:
        raise DomainError(
            "this member was merged into another member; change that one instead",
            code="member_merged",
        )

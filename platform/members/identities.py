"""Members' chat identities: how a member is known on a channel (``MemberIdentity``).

An identity is unique per (tenant, channel, external id), enforced by the database: a
link that loses a race to another member hits the unique index inside a savepoint and
leaves the caller's transaction alive. Every function works on the current tenant.

:func:`phone_owner` is who a phone the channel attests belongs to (see
``members.service.join_by_identity``): the one live member of this tenant whose phone
the shop recorded (console, API, import) and who is not known on any channel yet. A
phone someone typed in a chat never makes its member a match: typing a number proves
nothing, and matching on it would let whoever typed a stranger's number first receive
that stranger's later WhatsApp messages (and points). A member known on a channel got
their phone from there or typed it, so only members with no identity qualify.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from loyalchat import db
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.members.queries import identity_out, member_out, refuse_merged, row_by_id
from loyalchat.members.schemas import IdentityOut, MemberOut
from loyalchat.members.tables import Member, MemberIdentity, MemberStatus
from loyalchat.scoping import new_row, save_row, scoped_delete, scoped_select
from loyalchat.tenants import audit

log = logging.getLogger(__name__)

_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_PHONE_ID = re.compile(r"\+?[\d\s\-()]+")
_MAX_EXTERNAL_ID = 128
# Members read for one phone: past this many (phones typed in chats, mostly) the one the
# shop recorded may be left out, and the sender becomes a new member: the safe side.
_MAX_SAME_PHONE = 50


def clean_channel(channel: str) -> str:
    channel = (channel or "").strip().lower()
    if not _CHANNEL.fullmatch(channel):
        raise DomainError("a channel is a short name like whatsapp", code="invalid_channel")
    return channel


def clean_external_id(channel: str, external_id: str) -> str:
    value = unicodedata.normalize("NFKC", str(external_id or "")).strip()
    # WhatsApp's wa_id is the phone number in digits only; accept "+852 9123 4567" too.
    if channel == "whatsapp" and _PHONE_ID.fullmatch(value):
        value = re.sub(r"\D", "", value)
    if not value or len(value) > _MAX_EXTERNAL_ID or not value.isprintable():
        raise DomainError(
            "an external id is 1-128 printable characters", code="invalid_external_id"
        )
    return value


async def linked(channel: str, external_ids: Sequence[str]) -> dict[str, int]:
    """``{external_id: member_id}`` for the ids already linked on ``channel``."""
    rows = await scoped_select(
        MemberIdentity, MemberIdentity.external_id, MemberIdentity.member
    ).where(
        (MemberIdentity.channel == channel) & MemberIdentity.external_id.is_in(list(external_ids))
    )
    return {row["external_id"]: row["member"] for row in rows}


async def link(tx: Any, member_id: int, channel: str, external_id: str) -> bool:
    """Link one id inside a savepoint; False when the id is taken (the transaction lives on)."""
    savepoint = await tx.savepoint()
    try:
        await save_row(
            new_row(MemberIdentity, member=member_id, channel=channel, external_id=external_id)
        )
    except Exception as exc:
        if not db.is_unique_violation(exc):
            raise
        await savepoint.rollback_to()
        return False
    await savepoint.release()
    return True


async def phone_owner(phone: str) -> dict[str, Any] | None:
    """The member row a channel-attested ``phone`` (E.164) belongs to, or None.

    Exactly one active member of the current tenant with this phone and no identity on
    any channel; with two or more the phone cannot tell them apart and None is returned
    (logged): a duplicate member is something staff can merge, a member linked to the
    wrong record would spend a stranger's points.
    """
    if not phone:
        return None
    rows = (
        await scoped_select(Member)
        .where((Member.phone == phone) & (Member.status == MemberStatus.active.value))
        .order_by(Member.id)
        .limit(_MAX_SAME_PHONE)
    )  # the (tenant, phone) index
    if rows:
        known = await scoped_select(MemberIdentity, MemberIdentity.member).where(
            MemberIdentity.member.is_in([row["id"] for row in rows])
        )
        on_a_channel = {row["member"] for row in known}
        rows = [row for row in rows if row["id"] not in on_a_channel]
    if len(rows) > 1:
        log.warning(
            "two or more members recorded with the phone a channel attests; linking none "
            "(members %s)",
            ", ".join(row["member_no"] for row in rows[:5]),
        )
        return None
    return rows[0] if rows else None


async def link_to_phone_owner(
    tx: Any, owner: dict[str, Any], channel: str, ids: Sequence[str]
) -> bool:
    """Link ``ids`` to the owner of the attested phone, each audited with the reason.

    False when none could be linked: a concurrent join took them (the caller re-reads).
    """
    done = [value for value in ids if await link(tx, owner["id"], channel, value)]
    for value in done:
        await audit.record(
            "member.identity_add",
            f"member:{owner['id']}",
            after={"channel": channel, "external_id": value, "reason": "channel phone"},
        )
    return bool(done)


async def find_by_identity(channel: str, external_id: str) -> MemberOut | None:
    """The member known by this id on ``channel``, or None."""
    channel = clean_channel(channel)
    external_id = clean_external_id(channel, external_id)
    member_id = (await linked(channel, [external_id])).get(external_id)
    return member_out(await row_by_id(member_id)) if member_id is not None else None


async def identities(member_id: int) -> list[IdentityOut]:
    """A member's identities, oldest first; ``NotFound`` for another tenant's member."""
    await row_by_id(member_id)
    rows = (
        await scoped_select(MemberIdentity)
        .where(MemberIdentity.member == member_id)
        .order_by(MemberIdentity.id)
    )
    return [identity_out(row) for row in rows]


async def add_identity(member_id: int, channel: str, external_id: str) -> IdentityOut:
    """Link an id to a member; a second call is a no-op. ``Conflict("identity_taken")``
    when the id belongs to another member."""
    channel = clean_channel(channel)
    external_id = clean_external_id(channel, external_id)
    async with db.write_transaction() as tx:
        refuse_merged(await row_by_id(member_id))
        if await link(tx, member_id, channel, external_id):
            await audit.record(
                "member.identity_add",
                f"member:{member_id}",
                after={"channel": channel, "external_id": external_id},
            )
        row = (
            await scoped_select(MemberIdentity)
            .where(
                (MemberIdentity.channel == channel) & (MemberIdentity.external_id == external_id)
            )
            .first()
        )
    if row["member"] != member_id:
        raise Conflict("this id already belongs to another member", code="identity_taken")
    return identity_out(row)


async def remove_identity(member_id: int, channel: str, external_id: str) -> None:
    """Unlink an id from a member (``NotFound`` when it is not linked to that member)."""
    channel = clean_channel(channel)
    external_id = clean_external_id(channel, external_id)
    async with db.write_transaction():
        await row_by_id(member_id)
        removed = (
            await scoped_delete(MemberIdentity)
            .where(
                (MemberIdentity.member == member_id)
                & (MemberIdentity.channel == channel)
                & (MemberIdentity.external_id == external_id)
            )
            .returning(MemberIdentity.id)
        )
        if not removed:
            raise NotFound("this member has no such identity", code="not_found")
        await audit.record(
            "member.identity_remove",
            f"member:{member_id}",
            before={"channel": channel, "external_id": external_id},
        )

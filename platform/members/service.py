"""Members: the only writer of ``Member`` (profile columns), ``MemberIdentity`` and ``MemberCounter``.

Every function works on the current tenant (``loyalchat.context``) and raises
``loyalchat.domain`` errors with stable codes. A member gets a number from the tenant's
gap-free counter in the same transaction that inserts it. ``verified`` and
``search_text`` are recomputed on every write of the profile. Points and stored value
are the ledger's (``loyalchat.ledger``). Merging members is ``purchases.service``
(the steps on member rows are ``members.merge``). Chat identities, and whom a phone a
channel attests belongs to, are ``members.identities`` (its functions are importable
from here as before).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from loyalchat import db, events
from loyalchat.context import current_actor, require_tenant
from loyalchat.domain import Conflict, DomainError
from loyalchat.idempotency.creating import create_once
from loyalchat.members import numbering, profile
from loyalchat.members.identities import (
    add_identity,
    clean_channel,
    clean_external_id,
    find_by_identity,
    identities,
    link,
    link_to_phone_owner,
    linked,
    phone_owner,
    remove_identity,
)
from loyalchat.members.numbering import number_format, set_number_format
from loyalchat.members.queries import (
    derived,
    lock_row,
    member_out,
    profile_of,
    refuse_merged,
    row_by_id,
    row_by_no,
)
from loyalchat.members.schemas import MemberCreate, MemberOut, MemberUpdate
from loyalchat.members.search import search_members
from loyalchat.members.tables import Member, MemberIdentity, MemberStatus
from loyalchat.scoping import new_row, save_row, scoped_select, scoped_update
from loyalchat.tenants import audit
from loyalchat.tenants.tables import Tenant

__all__ = [
    "add_identity",
    "choose_language",
    "create_member",
    "fill_phone",
    "find_by_identity",
    "get_member",
    "get_member_by_id",
    "identities",
    "join_by_identity",
    "number_format",
    "profile_problems",
    "remove_identity",
    "search_members",
    "set_number_format",
    "update_member",
]

_MAX_JOIN_ATTEMPTS = 3


# --- profile -------------------------------------------------------------------------


async def _phone_region() -> str | None:
    row = (
        await Tenant.select(Tenant.currency, Tenant.timezone)
        .where(Tenant.id == require_tenant())
        .first()
    )
    return profile.default_region(row["currency"], row["timezone"]) if row else None


async def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Each given profile field cleaned (``DomainError`` with the field's code otherwise)."""
    cleaners = {
        "name": profile.clean_name,
        "email": profile.clean_email,
        "notes": profile.clean_notes,
        "tags": profile.clean_tags,
        "locale": profile.clean_locale,
        "marketing_opt_in": bool,
    }
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "phone":
            clean[name] = profile.clean_phone(value, await _phone_region())
        elif name == "birthday":
            clean[name] = profile.clean_birthday(value, datetime.now(UTC).date())
        else:
            clean[name] = cleaners[name](value)
    return clean


async def profile_problems(fields: dict[str, Any]) -> list[DomainError]:
    """Every problem in the given profile fields, one error each (the writers stop at the
    first): for a form that shows them all at once. Empty when all are fine."""
    problems = []
    for name, value in fields.items():
        try:
            await _clean({name: value})
        except DomainError as exc:
            problems.append(exc)
    return problems


def _created_fields(data: MemberCreate | None) -> dict[str, Any]:
    data = data or MemberCreate()
    return {name: getattr(data, name) for name in data.__struct_fields__}


# --- creating and joining --------------------------------------------------------------


async def _insert(fields: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
    """Insert a member with the next number; call inside a write transaction."""
    seq, member_no = await numbering.allocate()
    row = new_row(
        Member,
        member_no=member_no,
        seq=seq,
        idempotency_key=idempotency_key,
        **fields,
        **derived(fields, member_no),
    )
    await save_row(row)
    return row.to_dict()


async def _announce(row: dict[str, Any], channel: str | None) -> MemberOut:
    member = member_out(row)
    await events.emit(
        "member_joined",
        {"member_id": member.id, "member_no": member.member_no, "channel": channel},
    )
    return member


async def create_member(
    data: MemberCreate | None = None,
    identity: tuple[str, str] | None = None,
    *,
    key: str | None = None,
) -> MemberOut:
    """A new member with the tenant's next number, optionally linked to ``(channel, id)``.

    ``Conflict("identity_taken")`` when that identity already belongs to a member. With
    ``key`` (the API request's service key, a console form token) the member is created
    once: a repeat, even a concurrent one, returns the first member and creates nothing.
    """
    fields = await _clean(_created_fields(data))
    channel: str | None = None
    if identity is not None:
        channel = clean_channel(identity[0])
        external_id = clean_external_id(channel, identity[1])

    async def create() -> dict[str, Any]:
        async with db.write_transaction() as tx:
            row = await _insert(fields, key)
            if channel is not None and not await link(tx, row["id"], channel, external_id):
                raise Conflict("this id already belongs to another member", code="identity_taken")
            if current_actor().kind in ("staff", "api_key"):  # chat joins are not staff actions
                await audit.record(
                    "member.create", f"member:{row['id']}", after={"member_no": row["member_no"]}
                )
        return row

    row, replayed = await create_once(key, _created_with, create)
    return member_out(row) if replayed else await _announce(row, channel)


async def _created_with(key: str) -> dict[str, Any] | None:
    return await scoped_select(Member).where(Member.idempotency_key == key).first()


async def join_by_identity(
    channel: str, external_ids: Sequence[str], *, attested_phone: str = "", **fields: Any
) -> tuple[MemberOut, bool]:
    """The member known by ANY of ``external_ids`` on ``channel``, or a new one.

    For WhatsApp pass the business-scoped user id first, then the phone number when the
    webhook has it. Ids not linked yet are linked to the member found; an id linked to a
    different member stays where it is. ``fields`` (``MemberCreate`` fields) are used only
    when a member is created. Two concurrent joins with the same id make ONE member: the
    loser's insert hits the unique index, is rolled back to a savepoint, and re-reads.
    Returns ``(member, created)``.

    ``attested_phone`` (E.164) is a phone the CHANNEL vouches for (the adapter declares
    ``Capability.verified_phone``: WhatsApp's wa_id, a number WhatsApp checked by SMS),
    never one a person typed. When none of the ids is linked yet, the sender's ids are
    linked to the shop's member recorded with that phone (``identities.phone_owner``:
    exactly one active member, known on no channel; audited ``member.identity_add`` with
    reason "channel phone") and ``created`` is False. Otherwise a member is created as
    without it. The match changes no profile field, so ``verified`` stays what it was.
    """
    channel = clean_channel(channel)
    ids = list(dict.fromkeys(clean_external_id(channel, value) for value in external_ids))
    if not ids:
        raise DomainError("at least one external id is needed", code="invalid_external_id")
    phone = profile.clean_phone(attested_phone, None) if attested_phone else ""
    clean = await _clean(_created_fields(MemberCreate(**fields)))
    async with db.write_transaction() as tx:
        row, created = await _join(tx, channel, ids, clean, phone)
    if created:
        return await _announce(row, channel), True
    return member_out(row), False


async def _join(
    tx: Any, channel: str, ids: list[str], fields: dict[str, Any], phone: str
) -> tuple[dict[str, Any], bool]:
    for _ in range(_MAX_JOIN_ATTEMPTS):
        known = await linked(channel, ids)
        if known:
            member_id = next(known[value] for value in ids if value in known)
            row = await row_by_id(member_id)
            while row["status"] == MemberStatus.merged.value and row["merged_into"]:
                row = await row_by_id(row["merged_into"])
            for value in ids:
                if value not in known:
                    await link(tx, row["id"], channel, value)
            return row, False
        owner = await phone_owner(phone)
        if owner is not None:
            if await link_to_phone_owner(tx, owner, channel, ids):
                return owner, False
            continue  # a concurrent join linked these ids first: read whose they are
        savepoint = await tx.savepoint()
        try:
            row = await _insert(fields)
            for value in ids:
                await save_row(
                    new_row(MemberIdentity, member=row["id"], channel=channel, external_id=value)
                )
        except Exception as exc:
            if not db.is_unique_violation(exc):
                raise
            # A concurrent join linked one of these ids first: undo our member (and its
            # number, so no gap) and find theirs.
            await savepoint.rollback_to()
            continue
        await savepoint.release()
        return row, True
    raise Conflict("could not join: please try again", code="join_conflict")


# --- reading and updating --------------------------------------------------------------


async def get_member(member_no: str) -> MemberOut:
    """The member with this number (a merged one too, ``status="merged"``); ``NotFound``."""
    return member_out(await row_by_no(member_no))


async def get_member_by_id(member_id: int) -> MemberOut:
    return member_out(await row_by_id(member_id))


async def update_member(
    member_no: str, data: MemberUpdate, *, unverified_only: bool = False
) -> MemberOut:
    """Change the fields given in ``data``; audited with before and after.

    ``unverified_only`` (the wallet link): a verified member is refused with code
    ``profile_locked``, decided under the row lock.
    """
    changes = await _clean(data.changes())
    member_id = (await row_by_no(member_no))["id"]
    async with db.write_transaction():
        row = await lock_row(member_id)  # concurrent edits queue: search_text stays true
        refuse_merged(row)
        if unverified_only and row["verified"]:
            raise DomainError(
                "a verified member's details are changed by the shop", code="profile_locked"
            )
        before = profile_of(row)
        after = {**before, **changes}
        changed = {name for name in changes if after[name] != before[name]}
        if changed:
            values = {**changes, **derived(after, row["member_no"])}
            row = (
                await scoped_update(Member, values)
                .where(Member.id == member_id)
                .returning(*Member.all_columns())
            )[0]
            await audit.record(
                "member.update",
                f"member:{member_id}",
                before={name: before[name] for name in sorted(changed)},
                after={name: after[name] for name in sorted(changed)},
            )
    return member_out(row)


async def fill_phone(member_id: int, phone: str) -> bool:
    """A channel's phone (E.164, already cleaned) kept as the member's when they have none,
    so search and the API find them by it; a phone the member or staff typed is never
    replaced. Not audited (the member's own contact, like a chat join). True when written.
    """
    async with db.write_transaction():
        row = await lock_row(member_id)
        if row["phone"] or row["status"] == MemberStatus.merged.value:
            return False
        after = {**profile_of(row), "phone": phone}
        values = {"phone": phone, **derived(after, row["member_no"])}
        await scoped_update(Member, values).where(Member.id == member_id)
    return True


async def choose_language(member_id: int, locale: str) -> bool:
    """The member's own choice of language (the wallet's switcher): the wallet's and the
    chat's language. True when it changed; nothing is written when it is already theirs.

    Not audited: the audit log records staff actions, and this is the member's own (like
    a chat join). One conditional UPDATE; a merged member is left as it is.
    """
    clean = profile.clean_locale(locale)
    async with db.write_transaction():
        changed = await (
            scoped_update(Member, {Member.locale: clean, Member.updated_at: datetime.now(UTC)})
            .where(
                (Member.id == member_id)
                & (Member.locale != clean)
                & (Member.status != MemberStatus.merged.value)
            )
            .returning(Member.id)
        )
    return bool(changed)

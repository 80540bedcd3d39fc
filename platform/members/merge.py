"""Merging two members who turned out to be one person (joined on two channels, say).

One transaction: the kept member takes the absorbed one's identities, empty profile
fields, points and stored value (through the ledger, lots keep their expiry) and reward
grants; the absorbed member stays as ``status="merged"`` pointing at the kept one, so its
number still resolves. Its wallet links are revoked (``link_version`` bumped): an old link
shows the expired-link page, and the chat hands out the kept member's link.
"""

from __future__ import annotations

from typing import Any

from loyalchat import db, events
from loyalchat.domain import DomainError
from loyalchat.members import profile
from loyalchat.members.queries import (
    derived,
    lock_row,
    member_out,
    profile_of,
    row_by_id,
    row_by_no,
)
from loyalchat.members.schemas import MemberOut
from loyalchat.members.tables import Member, MemberIdentity, MemberStatus
from loyalchat.rewards.tables import Grant
from loyalchat.scoping import scoped_update
from loyalchat.tenants import audit

# Filled from the absorbed member only where the kept member has nothing. Marketing
# consent is not among them: one record's opt-in is not the other's.
_FILLABLE = ("name", "phone", "email", "birthday", "notes", "locale")


def _merged_profile(keep: dict[str, Any], absorb: dict[str, Any]) -> dict[str, Any]:
    merged = dict(keep)
    for name in _FILLABLE:
        if not merged[name] and absorb[name]:
            merged[name] = absorb[name]
    tags = list(dict.fromkeys([*keep["tags"], *absorb["tags"]]))
    merged["tags"] = profile.clean_tags(tags[: profile.MAX_TAGS])
    return merged


async def merge_members(keep_no: str, absorb_no: str, reason: str) -> MemberOut:
    """Fold member ``absorb_no`` into ``keep_no``; returns the kept member.

    Raises ``DomainError`` with code ``reason_required``, ``invalid_merge`` (a member into
    itself) or ``member_merged`` (either one already merged); ``NotFound`` for a number
    that is not the current tenant's.
    """
    from loyalchat.ledger import service as ledger

    reason = (reason or "").strip()
    if not reason:
        raise DomainError("say why these members are merged", code="reason_required")
    keep_id = (await row_by_no(keep_no))["id"]
    absorb_id = (await row_by_no(absorb_no))["id"]
    if keep_id == absorb_id:
        raise DomainError("a member cannot be merged into itself", code="invalid_merge")

    async with db.write_transaction():
        locked = {
            member_id: await lock_row(member_id) for member_id in sorted((keep_id, absorb_id))
        }
        keep, absorb = locked[keep_id], locked[absorb_id]
        for row in (keep, absorb):
            if row["status"] == MemberStatus.merged.value:
                raise DomainError(
                    f"member {row['member_no']} is already merged into another member",
                    code="member_merged",
                )
        before = profile_of(keep)
        after = _merged_profile(before, profile_of(absorb))
        changed = sorted(name for name in after if after[name] != before[name])
        await scoped_update(Member, {**after, **derived(after, keep["member_no"])}).where(
            Member.id == keep_id
        )
        moved_identities = (
            await scoped_update(MemberIdentity, {MemberIdentity.member: keep_id})
            .where(MemberIdentity.member == absorb_id)
            .returning(MemberIdentity.id)
        )
        moved_grants = (
            await scoped_update(Grant, {Grant.member: keep_id})
            .where(Grant.member == absorb_id)
            .returning(Grant.id)
        )
        points = await ledger.transfer_all(
            absorb_id, keep_id, key_prefix=f"merge:{absorb_id}", reason=reason
        )
        await scoped_update(
            Member,
            {
                Member.status: MemberStatus.merged.value,
                Member.merged_into: keep_id,
                # Its links stop working: a bearer of one must not reach the kept member.
                Member.link_version: Member.link_version + 1,
            },
        ).where(Member.id == absorb_id)
        await audit.record(
            "member.merge",
            f"member:{keep_id}",
            before={"absorbed": absorb["member_no"], **{name: before[name] for name in changed}},
            after={
                "reason": reason,
                "identities": len(moved_identities),
                "grants": len(moved_grants),
                "points": points,
                **{name: after[name] for name in changed},
            },
        )
        kept = await row_by_id(keep_id)
    await events.emit(
        "member_merged",
        {"member_id": keep_id, "member_no": keep["member_no"], "absorbed_no": absorb["member_no"]},
    )
    return member_out(kept)

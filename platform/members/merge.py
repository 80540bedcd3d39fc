"""Merging two members who turned out to be one person: the members' own rows.

The whole merge is ``purchases.service.merge_members``: it opens the transaction, calls
these steps for the member rows, and asks rewards and the ledger to move grants, points
and stored value. Here: the kept member takes the absorbed one's identities and empty
profile fields; the absorbed member stays as ``status="merged"`` pointing at the kept
one, so its number still resolves, and its wallet links are revoked (``link_version``
bumped): an old link shows the expired-link page, and the chat hands out the kept
member's link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loyalchat.domain import DomainError
from loyalchat.members import profile
from loyalchat.members.queries import derived, lock_row, profile_of
from loyalchat.members.tables import Member, MemberIdentity, MemberStatus
from loyalchat.scoping import scoped_update

# Filled from the absorbed member only where the kept member has nothing. Marketing
# consent is not among them: one record's opt-in is not the other's.
_FILLABLE = ("name", "phone", "email", "birthday", "notes", "locale")


@dataclass(frozen=True, slots=True)
class Folded:
    """What :func:`fold_into` changed on the kept member, for the audit log."""

    before: dict[str, Any]  # the profile fields that changed, as they were
    after: dict[str, Any]  # the same fields as they are now
    identities: int  # identities moved to the kept member


def _merged_profile(keep: dict[str, Any], absorb: dict[str, Any]) -> dict[str, Any]:
    merged = dict(keep)
    for name in _FILLABLE:
        if not merged[name] and absorb[name]:
            merged[name] = absorb[name]
    tags = list(dict.fromkeys([*keep["tags"], *absorb["tags"]]))
    merged["tags"] = profile.clean_tags(tags[: profile.MAX_TAGS])
    return merged


async def lock_pair(keep_id: int, absorb_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Lock both members (lowest id first: no deadlock) inside the caller's transaction.

    Returns their fresh rows ``(keep, absorb)``; ``member_merged`` when either one is
    already merged.
    """
    locked = {member_id: await lock_row(member_id) for member_id in sorted((keep_id, absorb_id))}
    keep, absorb = locked[keep_id], locked[absorb_id]
    for row in (keep, absorb):
        if row["status"] == MemberStatus.merged.value:
            raise DomainError(
                f"member {row['member_no']} is already merged into another member",
                code="member_merged",
            )
    return keep, absorb


async def fold_into(keep: dict[str, Any], absorb: dict[str, Any]) -> Folded:
    """Give the kept member the absorbed one's identities and fill its empty profile fields."""
    before = profile_of(keep)
    after = _merged_profile(before, profile_of(absorb))
    changed = sorted(name for name in after if after[name] != before[name])
    await scoped_update(Member, {**after, **derived(after, keep["member_no"])}).where(
        Member.id == keep["id"]
    )
    moved = (
        await scoped_update(MemberIdentity, {MemberIdentity.member: keep["id"]})
        .where(MemberIdentity.member == absorb["id"])
        .returning(MemberIdentity.id)
    )
    return Folded(
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        identities=len(moved),
    )


async def mark_merged(absorb_id: int, keep_id: int) -> None:
    """The absorbed member points at the kept one from now on; its links stop working."""
    await scoped_update(
        Member,
        {
            Member.status: MemberStatus.merged.value,
            Member.merged_into: keep_id,
            # A bearer of one of its links must not reach the kept member.
            Member.link_version: Member.link_version + 1,
        },
    ).where(Member.id == absorb_id)

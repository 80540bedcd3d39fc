"""Staff invitations: an owner invites a manager or cashier by e-mail; the link works once.

The only writer of ``staff_invitation``. Inviting, listing and revoking work in the
current tenant; :func:`find` and :func:`accept` start from a mailed token (no tenant yet)
and read the one invitation it names (a cross-tenant read by id and nonce).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from loyalchat import db
from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update
from loyalchat.tenants import account_tokens, accounts, audit
from loyalchat.tenants.tables import Role, StaffInvitation, StaffRole, StaffUser, Tenant

INVITABLE = (Role.manager, Role.cashier)


class InvitationError(ValueError):
    """The invitation cannot be made or used; ``code`` says why (for the page's words)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    email: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FoundInvitation:
    """What an invitation link leads to: the shop, the role, and the invited address."""

    id: int
    tenant_id: int
    shop_name: str
    email: str
    role: Role
    nonce: str
    has_account: bool


def _pending():
    return StaffInvitation.accepted_at.is_null() & StaffInvitation.revoked_at.is_null()


def _expired_before() -> datetime:
    return datetime.fromtimestamp(
        datetime.now(UTC).timestamp() - account_tokens.MAX_AGE[account_tokens.STAFF_INVITE], UTC
    )


async def invite(email: str, role: Role, *, invited_by: int | None) -> tuple[Invitation, str]:
    """Invite ``email`` into the current tenant with ``role``; returns it and its link token.

    An earlier pending invitation of the same address is replaced (its link stops working).
    Raises :class:`InvitationError`: ``role`` (not manager/cashier), ``email`` (invalid),
    ``already_staff``.
    """
    if role not in INVITABLE:
        raise InvitationError("role")
    try:
        email = accounts.normalise_email(email)
    except accounts.AccountError as exc:
        raise InvitationError("email") from exc
    existing = await accounts.get_user_by_email(email)
    if existing is not None:
        already = (
            await scoped_select(StaffRole, StaffRole.id)
            .where(StaffRole.user == existing.id)
            .first()
        )
        if already:
            raise InvitationError("already_staff")
    nonce = secrets.token_urlsafe(24)
    async with db.write_transaction():
        await scoped_update(StaffInvitation, {StaffInvitation.revoked_at: datetime.now(UTC)}).where(
            (StaffInvitation.email == email) & _pending()
        )
        rows = await scoped_insert(
            StaffInvitation,
            new_row(
                StaffInvitation, email=email, role=role.value, nonce=nonce, invited_by=invited_by
            ),
        ).returning(StaffInvitation.id, StaffInvitation.created_at)
    invitation = Invitation(rows[0]["id"], email, role, rows[0]["created_at"])
    await audit.record(
        "staff.invited", f"staff_invitation:{invitation.id}", after={"email": email, "role": role}
    )
    token = account_tokens.make(account_tokens.STAFF_INVITE, {"i": invitation.id, "n": nonce})
    return invitation, token


async def pending() -> list[Invitation]:
    """The current tenant's invitations still waiting (and not expired), newest first."""
    rows = await (
        scoped_select(
            StaffInvitation,
            StaffInvitation.id,
            StaffInvitation.email,
            StaffInvitation.role,
            StaffInvitation.created_at,
        )
        .where(_pending() & (StaffInvitation.created_at > _expired_before()))
        .order_by(StaffInvitation.id, ascending=False)
    )
    return [Invitation(r["id"], r["email"], Role(r["role"]), r["created_at"]) for r in rows]


async def revoke(invitation_id: int) -> bool:
    """Withdraw a pending invitation of the current tenant (False: none such)."""
    rows = await (
        scoped_update(StaffInvitation, {StaffInvitation.revoked_at: datetime.now(UTC)})
        .where((StaffInvitation.id == invitation_id) & _pending())
        .returning(StaffInvitation.id)
    )
    if rows:
        await audit.record("staff.invitation_revoked", f"staff_invitation:{invitation_id}")
    return bool(rows)


async def find(token: str | None) -> FoundInvitation | None:
    """The pending invitation a link token names, or None (bad, expired, used, revoked)."""
    payload = account_tokens.read(account_tokens.STAFF_INVITE, token)
    if (
        not payload
        or not isinstance(payload.get("i"), int)
        or not isinstance(payload.get("n"), str)
    ):
        return None
    if not 0 < payload["i"] < 2**31:
        return None
    with cross_tenant("an invitation link names its invitation by id and nonce"):
        row = await (
            StaffInvitation.select(
                StaffInvitation.id,
                StaffInvitation.tenant,
                StaffInvitation.email,
                StaffInvitation.role,
                StaffInvitation.nonce,
            )
            .where((StaffInvitation.id == payload["i"]) & _pending())
            .first()
        )
    if not row or not secrets.compare_digest(row["nonce"], payload["n"]):
        return None
    tenant = await Tenant.select(Tenant.display_name).where(Tenant.id == row["tenant"]).first()
    if tenant is None:
        return None
    has_account = await StaffUser.exists().where(StaffUser.email == row["email"])
    return FoundInvitation(
        id=row["id"],
        tenant_id=row["tenant"],
        shop_name=tenant["display_name"],
        email=row["email"],
        role=Role(row["role"]),
        nonce=row["nonce"],
        has_account=has_account,
    )


async def accept(found: FoundInvitation, user: accounts.StaffInfo) -> bool:
    """Give ``user`` (whose address is the invited one) the invited role; once only.

    The conditional UPDATE decides: of two clicks on the same link, one grants the role.
    """
    if user.email != found.email:
        raise InvitationError("wrong_account")
    actor = Actor("staff", user.id, user.email)
    with tenant_context(found.tenant_id, actor):
        async with db.write_transaction():
            rows = await (
                scoped_update(
                    StaffInvitation,
                    {
                        StaffInvitation.accepted_at: datetime.now(UTC),
                        StaffInvitation.accepted_by: user.id,
                    },
                )
                .where(
                    (StaffInvitation.id == found.id)
                    & (StaffInvitation.nonce == found.nonce)
                    & _pending()
                )
                .returning(StaffInvitation.id)
            )
            if not rows:
                return False
            if await accounts.role_in(user.id, found.tenant_id) is None:
                await accounts.grant_role(user.id, found.role)
        await audit.record("staff.invitation_accepted", f"staff_invitation:{found.id}")
    return True

"""Staff accounts and their roles per tenant. The only writer of staff_user and staff_role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from loyalchat import security
from loyalchat.context import cross_tenant
from loyalchat.scoping import new_row, scoped_delete, scoped_insert, scoped_select, scoped_update
from loyalchat.tenants import account_tokens, audit
from loyalchat.tenants.tables import Role, StaffRole, StaffUser, Tenant


class AccountError(ValueError):
    """An account could not be created or changed; the message says why."""


@dataclass(frozen=True, slots=True)
class StaffInfo:
    id: int
    email: str
    display_name: str
    locale: str | None
    is_platform_admin: bool
    is_active: bool
    email_verified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    tenant_id: int
    slug: str
    display_name: str
    status: str
    role: Role


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError("enter a valid e-mail address")
    return email


def _info(row: dict) -> StaffInfo:
    return StaffInfo(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        locale=row["locale"],
        is_platform_admin=row["is_platform_admin"],
        is_active=row["is_active"],
        email_verified_at=row.get("email_verified_at"),
    )


async def create_staff_user(
    email: str, password: str, *, display_name: str = "", is_platform_admin: bool = False
) -> StaffInfo:
    email = normalise_email(email)
    if problem := security.password_problem(password):
        raise AccountError(f"password: {problem}")
    if await StaffUser.exists().where(StaffUser.email == email):
        raise AccountError(f"an account for {email} exists already")
    rows = await StaffUser.insert(
        StaffUser(
            email=email,
            password_hash=await security.hash_password_async(password),
            display_name=display_name,
            is_platform_admin=is_platform_admin,
        )
    ).returning(*StaffUser.all_columns())
    return _info(rows[0])


async def get_user(user_id: int) -> StaffInfo | None:
    row = await StaffUser.select().where(StaffUser.id == user_id).first()
    return _info(row) if row else None


async def session_user(user_id: int) -> tuple[StaffInfo, str] | None:
    """The user and the stamp of their current password (see
    :func:`loyalchat.tenants.account_tokens.session_stamp`), in one query."""
    row = await StaffUser.select().where(StaffUser.id == user_id).first()
    return (_info(row), account_tokens.session_stamp(row["password_hash"])) if row else None


async def session_stamp(user_id: int) -> str | None:
    """The stamp a session opened now holds (None: no such user)."""
    found = await session_user(user_id)
    return found[1] if found else None


async def get_user_by_email(email: str) -> StaffInfo | None:
    row = await StaffUser.select().where(StaffUser.email == email.strip().lower()).first()
    return _info(row) if row else None


async def check_password(email: str, password: str) -> StaffInfo | None:
    """The active user with this e-mail and password, or None (same cost either way)."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = ""
    row = await StaffUser.select().where(StaffUser.email == email).first() if email else None
    # In a worker thread: argon2 takes a good part of a second of CPU.
    ok = await security.verify_password_async(row["password_hash"] if row else None, password)
    if not (row and ok and row["is_active"]):
        return None
    values: dict = {StaffUser.last_login_at: datetime.now(UTC)}
    if security.password_needs_rehash(row["password_hash"]):
        values[StaffUser.password_hash] = await security.hash_password_async(password)
    await StaffUser.update(values).where(StaffUser.id == row["id"])
    return _info(row)


async def set_password(user_id: int, password: str) -> None:
    if problem := security.password_problem(password):
        raise AccountError(f"password: {problem}")
    password_hash = await security.hash_password_async(password)
    await StaffUser.update({StaffUser.password_hash: password_hash}).where(StaffUser.id == user_id)


async def mark_email_verified(user_id: int, email: str) -> bool:
    """Record that ``email`` (still the user's address) was verified now; False when it
    was verified before or the address has changed since the link was sent."""
    rows = await (
        StaffUser.update({StaffUser.email_verified_at: datetime.now(UTC)})
        .where(
            (StaffUser.id == user_id)
            & (StaffUser.email == email)
            & StaffUser.email_verified_at.is_null()
        )
        .returning(StaffUser.id)
    )
    return bool(rows)


async def password_fingerprint(user_id: int) -> str | None:
    """What a password reset link binds to (None: no such active user)."""
    row = await (
        StaffUser.select(StaffUser.password_hash, StaffUser.is_active)
        .where(StaffUser.id == user_id)
        .first()
    )
    if not row or not row["is_active"]:
        return None
    return account_tokens.password_fingerprint(row["password_hash"])


async def reset_password(user_id: int, fingerprint: str, password: str) -> bool:
    """Set a new password if the current one is still the one the link was made for.

    One conditional UPDATE on the old hash: of two uses of the same link, one wins.
    Raises :class:`AccountError` for a weak password.
    """
    if problem := security.password_problem(password):
        raise AccountError(f"password: {problem}")
    row = await (
        StaffUser.select(StaffUser.password_hash, StaffUser.is_active)
        .where(StaffUser.id == user_id)
        .first()
    )
    if not row or not row["is_active"]:
        return False
    old_hash = row["password_hash"]
    if not security.constant_time_equal(account_tokens.password_fingerprint(old_hash), fingerprint):
        return False
    new_hash = await security.hash_password_async(password)
    rows = await (
        StaffUser.update({StaffUser.password_hash: new_hash})
        .where((StaffUser.id == user_id) & (StaffUser.password_hash == old_hash))
        .returning(StaffUser.id)
    )
    return bool(rows)


async def set_locale(user_id: int, locale: str | None) -> None:
    await StaffUser.update({StaffUser.locale: locale}).where(StaffUser.id == user_id)


async def set_platform_admin(user_id: int, value: bool) -> None:
    await StaffUser.update({StaffUser.is_platform_admin: value}).where(StaffUser.id == user_id)


async def grant_role(user_id: int, role: Role) -> None:
    """Give the user ``role`` in the current tenant (replacing any role there)."""
    existing = await (
        scoped_select(StaffRole, StaffRole.id, StaffRole.role)
        .where(StaffRole.user == user_id)
        .first()
    )
    if existing:
        await scoped_update(StaffRole, {StaffRole.role: role.value}).where(
            StaffRole.id == existing["id"]
        )
    else:
        await scoped_insert(StaffRole, new_row(StaffRole, user=user_id, role=role.value))
    await audit.record(
        "staff.role",
        f"staff:{user_id}",
        before={"role": existing["role"]} if existing else None,
        after={"role": role.value},
    )


async def revoke_role(user_id: int) -> None:
    await scoped_delete(StaffRole).where(StaffRole.user == user_id)
    await audit.record("staff.role_revoked", f"staff:{user_id}")


async def memberships(user_id: int) -> list[Membership]:
    """The tenants a user works in, with the role there, ordered by tenant name."""
    with cross_tenant("staff sign-in: the tenants this user works in"):
        rows = await StaffRole.select(
            StaffRole.tenant.id,
            StaffRole.tenant.slug,
            StaffRole.tenant.display_name,
            StaffRole.tenant.status,
            StaffRole.role,
        ).where(StaffRole.user == user_id)
    found = [
        Membership(
            tenant_id=row["tenant.id"],
            slug=row["tenant.slug"],
            display_name=row["tenant.display_name"],
            status=row["tenant.status"],
            role=Role(row["role"]),
        )
        for row in rows
    ]
    return sorted(found, key=lambda m: (m.display_name.lower(), m.tenant_id))


async def role_in(user_id: int, tenant_id: int) -> Role | None:
    """The user's role in the named tenant (None: no role there)."""
    with cross_tenant("a user's role in a tenant named by id"):
        row = await (
            StaffRole.select(StaffRole.role)
            .where((StaffRole.user == user_id) & (StaffRole.tenant == tenant_id))
            .first()
        )
    return Role(row["role"]) if row else None


async def staff_of_current_tenant() -> list[dict]:
    """Staff of the current tenant with their roles."""
    return await scoped_select(
        StaffRole,
        StaffRole.id,
        StaffRole.user.id.as_alias("user_id"),
        StaffRole.user.email.as_alias("email"),
        StaffRole.user.display_name.as_alias("display_name"),
        StaffRole.role,
    ).order_by(StaffRole.id)


async def tenant_exists(tenant_id: int) -> bool:
    return await Tenant.exists().where(Tenant.id == tenant_id)

"""A merchant signs up: a new shop (status ``applying``) with its owner's account.

:func:`sign_up` checks every field first (so the page can say what is wrong next to each),
then creates the tenant, the staff user and the owner role in one transaction; a race for
the same slug or address that slips past the checks ends as the same field error.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalchat import db, security
from loyalchat.bounds import is_storable
from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import account_tokens, accounts
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import Role, StaffUser, Tenant, TenantStatus

MAX_SHOP_NAME = 200
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte of password is an attack
# Slugs that would read as one of our own pages in a shop's links.
RESERVED_SLUGS = frozenset(
    "admin api app console help login logout mail onboarding password signup static "
    "support system www hooks health billing".split()
)


class SignupError(ValueError):
    """Fields that are wrong: field name -> problem code (the page words each)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class SignedUp:
    tenant: tenant_service.TenantInfo
    user: accounts.StaffInfo


def _check_password(password: str, email: str, slug: str) -> str | None:
    if len(password) > MAX_PASSWORD:
        return "too_long"
    if security.password_problem(password):
        return "too_short"
    lowered = password.lower()
    local = email.partition("@")[0]
    if len(set(password)) < 4 or lowered in {email, local, slug} or lowered.isdigit():
        return "weak"
    return None


async def check(email: str, password: str, shop_name: str, slug: str) -> dict[str, str]:
    """Problems with a sign-up form, by field ({} when it may go ahead)."""
    problems: dict[str, str] = {}
    email = email.strip().lower()
    try:
        email = accounts.normalise_email(email)
        if not is_storable(email) or " " in email:
            raise accounts.AccountError("control characters")
    except accounts.AccountError:
        problems["email"] = "invalid"
    else:
        if await StaffUser.exists().where(StaffUser.email == email):
            problems["email"] = "taken"
    shop_name = shop_name.strip()
    if not shop_name:
        problems["shop_name"] = "missing"
    elif len(shop_name) > MAX_SHOP_NAME or not is_storable(shop_name):
        problems["shop_name"] = "invalid"
    slug = slug.strip().lower()
    if not tenant_service.SLUG_RE.match(slug):
        problems["slug"] = "invalid"
    elif slug in RESERVED_SLUGS:
        problems["slug"] = "taken"
    elif await Tenant.exists().where(Tenant.slug == slug):
        problems["slug"] = "taken"
    if problem := _check_password(password, email, slug):
        problems["password"] = problem
    return problems


async def sign_up(
    email: str, password: str, shop_name: str, slug: str, *, locale: str = "zh-Hant"
) -> SignedUp:
    """Create the shop (applying) and its owner, or raise :class:`SignupError`."""
    if problems := await check(email, password, shop_name, slug):
        raise SignupError(problems)
    email, slug, shop_name = email.strip().lower(), slug.strip().lower(), shop_name.strip()
    try:
        async with db.write_transaction():
            tenant = await tenant_service.create_tenant(
                slug, shop_name, status=TenantStatus.applying, locale=locale
            )
            user = await accounts.create_staff_user(email, password, display_name="")
            await accounts.set_locale(user.id, locale)
            with tenant_context(tenant.id, Actor("staff", user.id, user.email)):
                await accounts.grant_role(user.id, Role.owner)
    except (tenant_service.TenantError, accounts.AccountError) as exc:
        raise SignupError(await check(email, password, shop_name, slug) or _guess(exc)) from exc
    except Exception as exc:  # a unique index lost a race with another sign-up
        if (
            "unique" not in type(exc).__name__.lower()
            and "integrity" not in type(exc).__name__.lower()
        ):
            raise
        raise SignupError(await check(email, password, shop_name, slug) or _guess(exc)) from exc
    return SignedUp(tenant=tenant, user=user)


def _guess(exc: Exception) -> dict[str, str]:
    return {"slug": "taken"} if "slug" in str(exc) else {"email": "taken"}


def verification_link(user_id: int, email: str) -> str:
    """The path of the e-mail verification link for this user and address."""
    token = account_tokens.make(account_tokens.VERIFY_EMAIL, {"u": user_id, "e": email})
    return f"/signup/verify?token={token}"


async def verify(token: str | None) -> tuple[str, accounts.StaffInfo | None]:
    """Use a verification link: ("verified" | "already" | "invalid", the user)."""
    payload = account_tokens.read(account_tokens.VERIFY_EMAIL, token)
    if (
        not payload
        or not isinstance(payload.get("u"), int)
        or not isinstance(payload.get("e"), str)
    ):
        return "invalid", None
    if not 0 < payload["u"] < 2**31:
        return "invalid", None
    user = await accounts.get_user(payload["u"])
    if user is None or user.email != payload["e"]:
        return "invalid", None
    if await accounts.mark_email_verified(user.id, user.email):
        return "verified", await accounts.get_user(user.id)
    return "already", user

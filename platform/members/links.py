"""Signed, expiring links to a member's wallet page, handed out in the chat.

A link is ``<public_base_url>/w/<token>``. The token is an itsdangerous
``URLSafeTimedSerializer`` signature (salt ``member-wallet``, keyed from the app secret)
over ``[tenant id, member id]``: the token alone says whose wallet it is, so the page
needs no other id in its path and no session. It works for
``Settings.wallet_link_max_age`` seconds; a member asks for a fresh one in the chat.

The tenant context of a wallet request comes from a VERIFIED token only.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError, NotFound
from loyalchat.members.schemas import MemberOut
from loyalchat.settings import Settings, get_settings
from loyalchat.tenants.service import TenantInfo, get_tenant, get_tenant_by_slug

SALT = "member-wallet"
PATH_PREFIX = "/w/"
_MAX_MERGE_HOPS = 10  # merged into a member that was itself merged later...
# What a member sends in the chat to get a fresh link, by language (the chat answers all three).
REFRESH_KEYWORDS = {"zh-Hant": "會員", "zh-Hans": "会员", "en": "card"}


class LinkInvalid(DomainError):
    """The token was not signed by us, or was altered."""

    code = "link_invalid"
    status = 403


class LinkExpired(DomainError):
    """A genuine token past its lifetime. ``tenant_id``/``member_id`` say whose it was,
    so the page can answer in the member's language; never use them to show data."""

    code = "link_expired"
    status = 410

    def __init__(self, message: str, *, tenant_id: int | None, member_id: int | None) -> None:
        super().__init__(message)
        self.tenant_id = tenant_id
        self.member_id = member_id


def _serializer(settings: Settings | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer((settings or get_settings()).secret(), salt=SALT)


def make_token(tenant_id: int, member_id: int, *, settings: Settings | None = None) -> str:
    """The signed token for one member's wallet (it carries the signing time)."""
    return _serializer(settings).dumps([int(tenant_id), int(member_id)])


def _ids(payload: Any) -> tuple[int, int]:
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(isinstance(value, int) and not isinstance(value, bool) for value in payload)
    ):
        raise LinkInvalid("this link is not valid")
    return payload[0], payload[1]


def verify(
    token: str, *, max_age: int | None = None, settings: Settings | None = None
) -> tuple[int, int]:
    """``(tenant_id, member_id)`` of a genuine, unexpired token.

    Raises :class:`LinkExpired` (signed by us, too old) or :class:`LinkInvalid`.
    ``max_age`` defaults to ``Settings.wallet_link_max_age``.
    """
    settings = settings or get_settings()
    age = settings.wallet_link_max_age if max_age is None else max_age
    serializer = _serializer(settings)
    try:
        return _ids(serializer.loads(token, max_age=age))
    except SignatureExpired as exc:
        # The signature is good, only old: whose link it was is known and trustworthy.
        try:
            tenant_id, member_id = _ids(serializer.load_payload(exc.payload))
        except (BadSignature, LinkInvalid):
            tenant_id = member_id = None
        raise LinkExpired(
            "this link has expired", tenant_id=tenant_id, member_id=member_id
        ) from None
    except BadSignature:
        raise LinkInvalid("this link is not valid") from None


async def _tenant(tenant: TenantInfo | int | str) -> TenantInfo:
    found = tenant
    if isinstance(tenant, str):
        found = await get_tenant_by_slug(tenant)
    elif isinstance(tenant, int):
        found = await get_tenant(tenant)
    if not isinstance(found, TenantInfo):
        raise NotFound("no such shop", code="not_found")
    return found


async def wallet_url(
    member: int | str, tenant: TenantInfo | int | str, *, settings: Settings | None = None
) -> str:
    """The wallet link of a member, given by id (int) or member number (str).

    ``tenant`` is a :class:`TenantInfo`, a tenant id or a slug. A merged member's link
    opens the member it was merged into (see :func:`wallet_member`).
    """
    from loyalchat.members import service as members

    settings = settings or get_settings()
    info = await _tenant(tenant)
    with tenant_context(info.id, Actor("system", label="wallet link")):
        found = (
            await members.get_member(member)
            if isinstance(member, str)
            else await members.get_member_by_id(member)
        )
    token = make_token(info.id, found.id, settings=settings)
    return f"{settings.public_base_url.rstrip('/')}{PATH_PREFIX}{token}"


async def wallet_member(member_id: int) -> MemberOut:
    """The member a wallet link of ``member_id`` shows: a merged member's link follows to
    the member it was merged into. Current tenant; ``NotFound`` when gone."""
    from loyalchat.members import service as members

    member = await members.get_member_by_id(member_id)
    for _ in range(_MAX_MERGE_HOPS):
        if member.status != "merged" or member.merged_into is None:
            return member
        member = await members.get_member_by_id(member.merged_into)
    raise NotFound("member not found")

"""Signed, expiring, revocable links to a member's wallet page, handed out in the chat.

A link is ``<public_base_url>/w/<token>``. The token is an itsdangerous
``URLSafeTimedSerializer`` signature (salt ``member-wallet``, keyed from the app secret)
over ``[tenant id, member id, link version]``: the token alone says whose wallet it is, so
the page needs no other id in its path and no session. It works for
``Settings.wallet_link_max_age`` seconds (a day by default; a member asks for a fresh one
in the chat) and only while its version is the member's ``link_version``: bumping that
column (:func:`revoke`: a merge, the console's "sign out all wallet links", the wallet's
"log out everywhere") makes every older link stop working at once.

The tenant context of a wallet request comes from a VERIFIED token only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError, NotFound
from loyalchat.members.queries import member_out, row_by_id
from loyalchat.members.schemas import MemberOut
from loyalchat.members.tables import Member, MemberStatus
from loyalchat.scoping import scoped_select, scoped_update
from loyalchat.settings import Settings, get_settings
from loyalchat.tenants import audit
from loyalchat.tenants.service import TenantInfo, get_tenant, get_tenant_by_slug

SALT = "member-wallet"
PATH_PREFIX = "/w/"
MAX_VERSION = 2**31 - 1  # link_version is an int32 column
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


class LinkRevoked(LinkExpired):
    """A genuine, unexpired token whose member signed their links out since (or was merged
    into another member). Shown exactly like an expired link: ask the chat for a new one."""

    code = "link_revoked"


class LinkClaim(NamedTuple):
    """What a genuine token says: whose wallet, and the link version it was signed with."""

    tenant_id: int
    member_id: int
    version: int


def _serializer(settings: Settings | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer((settings or get_settings()).secret(), salt=SALT)


def make_token(
    tenant_id: int, member_id: int, version: int = 0, *, settings: Settings | None = None
) -> str:
    """The signed token for one member's wallet at ``version`` (it carries the signing time).

    Use :func:`wallet_url`, which signs the member's current version; a token with an
    older version is refused by :func:`link_member`.
    """
    return _serializer(settings).dumps([int(tenant_id), int(member_id), int(version)])


def _claim(payload: Any) -> LinkClaim:
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(value, int) and not isinstance(value, bool) for value in payload)
    ):
        raise LinkInvalid("this link is not valid")
    return LinkClaim(*payload)


def verify(
    token: str, *, max_age: int | None = None, settings: Settings | None = None
) -> LinkClaim:
    """The claim of a genuine, unexpired token: its signature and age only.

    Raises :class:`LinkExpired` (signed by us, too old) or :class:`LinkInvalid`.
    ``max_age`` defaults to ``Settings.wallet_link_max_age``. Whether the link is still
    current (not revoked) needs the database: :func:`link_member`.
    """
    settings = settings or get_settings()
    age = settings.wallet_link_max_age if max_age is None else max_age
    serializer = _serializer(settings)
    try:
        return _claim(serializer.loads(token, max_age=age))
    except SignatureExpired as exc:
        # The signature is good, only old: whose link it was is known and trustworthy.
        try:
            tenant_id, member_id, _ = _claim(serializer.load_payload(exc.payload))
        except (BadSignature, LinkInvalid):
            tenant_id = member_id = None
        raise LinkExpired(
            "this link has expired", tenant_id=tenant_id, member_id=member_id
        ) from None
    except BadSignature:
        raise LinkInvalid("this link is not valid") from None


def unverified_tenant_id(token: str) -> int | None:
    """The tenant a token that does not verify names, if it names one (a link cut short or
    altered). NOT trusted: only for answering in that shop's language, never to show data."""
    try:
        payload = token.split(".", 1)[0].encode("ascii", "replace")
        tenant_id = _claim(_serializer().load_payload(payload)).tenant_id
    except (BadData, LinkInvalid, ValueError, TypeError):
        return None
    return tenant_id if 0 < tenant_id <= MAX_VERSION else None


async def link_member(claim: LinkClaim) -> MemberOut:
    """The member a verified link shows, while the link is current (current tenant).

    Raises :class:`LinkRevoked` when the member's links were revoked since the token was
    signed, or the member was merged into another one (a merge revokes the absorbed
    member's links: a fresh link from the chat opens the kept member).
    """
    row = await scoped_select(Member).where(Member.id == claim.member_id).first()
    if row is None:
        raise LinkRevoked("member not found", tenant_id=None, member_id=None)
    if row["link_version"] != claim.version or row["status"] == MemberStatus.merged.value:
        raise LinkRevoked(
            "this link was signed out", tenant_id=claim.tenant_id, member_id=claim.member_id
        )
    return member_out(row)


async def link_version(member_id: int) -> int:
    """The current link version of the current tenant's member; ``NotFound`` when absent."""
    return int((await row_by_id(member_id))["link_version"])


async def revoke(member_id: int, *, expected: int | None = None, why: str) -> int | None:
    """Make every wallet link of the current tenant's member stop working; audited.

    One conditional UPDATE bumps ``link_version``. With ``expected`` (the version a form
    was shown with) it bumps only from that version, so a form sent twice revokes once:
    ``None`` is returned when the version had moved on already. Returns the new version.
    ``why`` is recorded (``staff``, ``member``...). ``NotFound`` for another tenant's id.
    """
    query = scoped_update(Member, {Member.link_version: Member.link_version + 1}).where(
        Member.id == member_id
    )
    if expected is not None:
        query = query.where(Member.link_version == expected)
    rows = await query.returning(Member.link_version)
    if not rows:
        await row_by_id(member_id)  # NotFound for an id that is not this tenant's
        return None
    version = int(rows[0]["link_version"])
    await audit.record(
        "member.wallet_links_revoked",
        f"member:{member_id}",
        before={"link_version": version - 1},
        after={"link_version": version, "by": why},
    )
    return version


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

    ``tenant`` is a :class:`TenantInfo`, a tenant id or a slug. Signed with the member's
    current link version. A merged member's link is the link of the member it was merged
    into (see :func:`wallet_member`).
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
        found = await wallet_member(found.id)
        version = await link_version(found.id)
    token = make_token(info.id, found.id, version, settings=settings)
    return f"{settings.public_base_url.rstrip('/')}{PATH_PREFIX}{token}"


async def wallet_member(member_id: int) -> MemberOut:
    """The member whose wallet ``member_id`` now has: a merged member's is the one it was
    merged into (the chat's card reply and :func:`wallet_url` use it; old links of the
    merged member are revoked). Current tenant; ``NotFound`` when gone."""
    from loyalchat.members import service as members

    member = await members.get_member_by_id(member_id)
    for _ in range(_MAX_MERGE_HOPS):
        if member.status != "merged" or member.merged_into is None:
            return member
        member = await members.get_member_by_id(member.merged_into)
    raise NotFound("member not found")

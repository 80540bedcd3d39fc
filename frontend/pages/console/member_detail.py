"""The member detail page: card, the forms that move points, the wallet link, history,
and the profile and merge forms behind disclosures.

Shared by the members controller's GET and its form posts (a refused form is shown
again on the same page, with its values and the problem next to the field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Template

from loyalchat import i18n
from loyalchat.domain import NotFound
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, display_for
from loyalchat.i18n import LANGUAGE_NAMES, N_
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.card_reply import lifetime
from loyalchat.members.schemas import MemberOut
from loyalchat.purchases import history as member_history
from loyalchat.rewards import service as rewards
from loyalchat.settings import get_settings
from loyalchat.tenants.auth import principal_of
from loyalchat.tenants.tables import Role

# Ten entries keep the page short on a phone (older ones are a page away).
HISTORY_PER_PAGE = 10
VALUE_ROWS = 20
GRANT_ROWS = 20


async def member_or_404(member_id: int) -> MemberOut:
    """The current tenant's member with this id; 404 for any other id."""
    try:
        return await members.get_member_by_id(member_id)
    except NotFound:
        raise NotFoundException() from None


# The e-mail a shop sends a member with their wallet link, in the member's language.
MAIL_SUBJECT = N_("Your membership card at %(shop)s")
MAIL_BODY = N_(
    "Hello %(name)s,\n\nyour points, history and rewards at %(shop)s are here:\n%(url)s\n\n"
    "The link works for %(lifetime)s. Ask us for a new one when it has expired."
)


@dataclass(frozen=True, slots=True)
class WalletHandout:
    """The member's wallet link as the member page hands it over: copy, e-mail or QR."""

    url: str
    mailto: str
    lifetime: str  # how long the link works, in the reader's language


async def wallet_handout(request: Request, member: MemberOut) -> WalletHandout | None:
    """A fresh wallet link of the current tenant's member, or None when none may be
    handed out: the shop is not active (a suspended shop's wallet is closed) or the member
    was merged into another one (whose page hands out the link).

    Signed by :func:`loyalchat.members.links.wallet_url`, as the chat and the CLI do.
    """
    tenant = principal_of(request).tenant
    if tenant is None or not tenant.is_active or member.status != "active":
        return None
    url = await links.wallet_url(member.id, tenant)
    seconds = get_settings().wallet_link_max_age
    # The e-mail is read by the member: their language, else the shop's.
    language = i18n.valid(member.locale) or i18n.valid(tenant.locale) or i18n.DEFAULT_LOCALE
    words = i18n.translations(language)
    fill = {"shop": tenant.display_name, "url": url, "lifetime": lifetime(language, seconds)}
    subject = words.gettext(MAIL_SUBJECT) % fill
    body = words.gettext(MAIL_BODY) % {**fill, "name": member.name or member.member_no}
    query = urlencode({"subject": subject, "body": body.replace("\n", "\r\n")}, quote_via=quote)
    return WalletHandout(
        url=url,
        mailto=f"mailto:{quote(member.email, safe='@')}?{query}",
        lifetime=lifetime(i18n.locale_of(request), seconds),
    )


def profile_form(member: MemberOut) -> dict[str, str]:
    """The profile form's fields filled from the member."""
    return {
        "name": member.name,
        "phone": member.phone,
        "email": member.email,
        "birthday": member.birthday.isoformat() if member.birthday else "",
        "notes": member.notes,
        "tags": ", ".join(member.tags),
        "marketing_opt_in": "1" if member.marketing_opt_in else "",
        "locale": member.locale,
    }


async def detail_page(
    request: Request,
    member: MemberOut,
    *,
    history_page: int = 1,
    purchase: dict[str, Any] | None = None,
    forms: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    """Render the detail page; ``forms``/``errors`` echo a refused form by its name."""
    forms = dict(forms or {})
    errors = errors or {}
    history_page = max(1, history_page)
    # What happened, in the reader's language (loyalchat.purchases.history).
    locale = display_for(request).locale
    history = await member_history.points_history(
        member.id, locale, limit=HISTORY_PER_PAGE, offset=(history_page - 1) * HISTORY_PER_PAGE
    )
    values = await member_history.value_history(member.id, locale, limit=VALUE_ROWS)
    grants = await rewards.member_grants(member.id, limit=GRANT_ROWS)
    merged_into = None
    if member.merged_into:
        try:
            merged_into = await members.get_member_by_id(member.merged_into)
        except NotFound:
            merged_into = None
    # Each form that moves points or money gets a fresh token, unless it is being shown
    # again after a refusal: then the same token, so fixing and resending records once.
    for name in ("purchase", "adjust", "value", "wallet_links"):
        form = forms.setdefault(name, {})
        if not ff.TOKEN.fullmatch(form.get("token", "")):
            form["token"] = ff.new_token()
    forms.setdefault("profile", profile_form(member))
    principal = principal_of(request)
    return Template(
        "console/members/detail.html",
        context=base_context(
            request,
            member=member,
            merged_into=merged_into,
            history=history,
            history_page=history_page,
            history_pages=max(1, -(-history.total // HISTORY_PER_PAGE)),
            values=values,
            grants=grants,
            purchase=purchase,
            forms=forms,
            errors=errors,
            can_manage=principal.has_role(Role.manager),
            languages=LANGUAGE_NAMES,
            # "Sign out all wallet links" revokes from the version shown, once.
            link_version=await links.link_version(member.id),
            wallet=await wallet_handout(request, member),
        ),
        status_code=status_code,
        # The page carries the member's wallet link, a bearer credential: never cached.
        headers={"cache-control": "no-store"},
    )

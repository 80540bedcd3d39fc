"""The member wallet: one member's card, history, rewards and coupons, on their phone.

Reached from the chat by a signed, expiring, revocable link (:mod:`loyalchat.members.links`);
there is no session and no other id in the path. Every request verifies the token and its
link version and runs as that token's tenant and member (``Actor("member", ...)``), whoever
else the browser may be signed in as. The link is a bearer credential, so it may add a
name and phone to an unverified member but never change a verified member's details, and
"log out everywhere" revokes every link of the member. Forms carry the usual CSRF token (the cookie is set on the first page),
and the redeem form carries a random token of its own, used as the redemption's
idempotency key: a double tap redeems once.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_400_BAD_REQUEST, HTTP_403_FORBIDDEN

from loyalchat import i18n, texts
from loyalchat.bounds import PageNumber, PathId
from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.wallet import view
from loyalchat.i18n import N_
from loyalchat.media.responses import media_response
from loyalchat.media.store import MediaNotFound
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberOut, MemberUpdate
from loyalchat.purchases import history as member_history
from loyalchat.rewards import service as rewards
from loyalchat.tenants.service import TenantInfo, get_tenant

# Public by token: no staff session or API key; the signed token is the credential and
# the only source of the tenant. The isolation harness skips these routes; tests/test_wallet.py
# proves a token shows its own member and nothing else.
WALLET = {"isolation": "public", "auth": "wallet-token"}
# The token is a bearer credential in the URL: keep it out of Referer headers and caches.
HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex",
}
# Catalogue pictures: content-addressed, so the browser may keep them (privately).
PICTURE_HEADERS = {"referrer-policy": "no-referrer", "x-robots-tag": "noindex"}
_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
HISTORY_PAGE = 50


@dataclass(frozen=True, slots=True)
class Wallet:
    token: str
    tenant: TenantInfo
    member: MemberOut
    locale: str
    version: int  # the link version the token was signed with

    @property
    def base(self) -> str:
        return f"{links.PATH_PREFIX}{self.token}"


def _set_locale(request: Request, locale: str) -> None:
    # locale_of() caches the request's language here; the wallet decides it itself.
    request.scope.setdefault("state", {})["locale"] = locale


def _wallet_locale(request: Request, member_locale: str | None, shop_locale: str | None) -> str:
    """The wallet's language: the member's choice, then the browser's, then the shop's."""
    locale = i18n.choose(request, member_locale, fallback=shop_locale)
    _set_locale(request, locale)
    return locale


async def _expired_hints(exc: links.LinkExpired) -> tuple[str | None, str | None, str]:
    """The member's language, the shop's and the shop's name for an expired (genuine) link."""
    if exc.tenant_id is None or exc.member_id is None:
        return None, None, ""
    tenant = await get_tenant(exc.tenant_id)
    if tenant is None:
        return None, None, ""
    with tenant_context(tenant.id, Actor("system", label="wallet link")):
        try:
            member = await links.wallet_member(exc.member_id)
        except NotFound:
            return None, tenant.locale, tenant.display_name
    return member.locale, tenant.locale, tenant.display_name


async def _invalid_link_locale(token: str, tenant: TenantInfo | None) -> str | None:
    """The language of the shop a link that does not work names (a link cut short names
    it, unverified: used for the language only, never to show the shop)."""
    if tenant is None and (tenant_id := links.unverified_tenant_id(token)) is not None:
        tenant = await get_tenant(tenant_id)
    return tenant.locale if tenant is not None else None


@contextlib.asynccontextmanager
async def open_wallet(request: Request, token: str) -> AsyncIterator[Wallet]:
    """Verify the token and run the block as its tenant and member.

    Raises :class:`links.LinkExpired` (:class:`links.LinkRevoked` for a signed-out link)
    / :class:`links.LinkInvalid`, which this controller's exception handlers turn into a
    friendly page.
    """
    tenant: TenantInfo | None = None
    try:
        claim = links.verify(token)
        tenant = await get_tenant(claim.tenant_id)
        if tenant is None or not tenant.is_active:
            raise links.LinkInvalid("this programme is not available", code="shop_unavailable")
        with tenant_context(tenant.id, Actor("member", claim.member_id)):
            member = await links.link_member(claim)  # revoked links stop here
    except links.LinkExpired as exc:
        hints = await _expired_hints(exc)
        exc.extra["member_locale"], exc.extra["shop_locale"], exc.extra["shop"] = hints
        raise
    except links.LinkInvalid as exc:
        # The wallet's order still holds: the browser, then the shop the link names.
        exc.extra["shop_locale"] = await _invalid_link_locale(token, tenant)
        raise
    actor = Actor("member", member.id, member.name or member.member_no)
    locale = _wallet_locale(request, member.locale, tenant.locale)
    with tenant_context(tenant.id, actor):
        yield Wallet(
            token=token, tenant=tenant, member=member, locale=locale, version=claim.version
        )


def _page(wallet: Wallet, name: str, tab: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"wallet/{name}.html",
        context={
            "wallet": wallet,
            "base": wallet.base,
            "tab": tab,
            "card": view.card(wallet.member, wallet.tenant, wallet.locale),
            **context,
        },
        status_code=status_code,
        headers=HEADERS,
    )


def _link_error(request: Request, exc: links.LinkInvalid | links.LinkExpired) -> Response:
    # A revoked link (LinkRevoked) is a LinkExpired: the same page, in the member's language.
    expired = isinstance(exc, links.LinkExpired)
    hints = exc.extra
    _wallet_locale(request, hints.get("member_locale"), hints.get("shop_locale"))
    return _link_page(
        request,
        exc.status,
        expired=expired,
        unavailable=exc.code == "shop_unavailable",
        shop=exc.extra.get("shop", "") if expired else "",
    )


def _link_page(request: Request, status: int, *, shop: str = "", **context: Any) -> Template:
    chosen = i18n.locale_of(request)
    return Template(
        "wallet/link_error.html",
        context={
            "expired": False,
            "unavailable": False,
            "signed_out": False,
            **context,
            "shop": texts.in_script(shop, chosen),  # the reader's Chinese script
            "keyword": links.REFRESH_KEYWORDS[chosen],
            "keywords": links.REFRESH_KEYWORDS,
        },
        status_code=status,
        headers=HEADERS,
    )


class WalletController(Controller):
    path = "/w"
    include_in_schema = False
    exception_handlers = {  # noqa: RUF012 - Litestar reads it from the class
        links.LinkInvalid: _link_error,
        links.LinkExpired: _link_error,
    }

    @get("/{token:str}", opt=WALLET)
    async def card(self, request: Request, token: FromPath[str]) -> Template:
        async with open_wallet(request, token) as wallet:
            return await _card_page(wallet)

    @post("/{token:str}/profile", opt=WALLET, status_code=303)
    async def profile(self, request: Request, token: FromPath[str]) -> Response[Any]:
        """An unverified member adds their name and phone number.

        A verified member's details are not changed from a link (a bearer token that may
        have been forwarded): the shop changes them (later, a one-time code in the chat).
        """
        form = await ui.form_data(request)
        name, phone = form.get("name", "").strip(), form.get("phone", "").strip()
        async with open_wallet(request, token) as wallet:
            errors: dict[str, str] = {}
            if wallet.member.verified:
                return await _card_page(wallet, HTTP_403_FORBIDDEN, {"form": _locked(request)})
            if not name:
                errors["name"] = i18n.gettext(request, N_("Enter your name."))
            if not phone:
                errors["phone"] = i18n.gettext(request, N_("Enter your phone number."))
            if not errors:
                try:
                    await members.update_member(
                        wallet.member.member_no,
                        MemberUpdate(name=name, phone=phone),
                        unverified_only=True,  # checked again under the row lock
                    )
                except DomainError as exc:
                    if exc.code == "profile_locked":
                        return await _card_page(
                            wallet, HTTP_403_FORBIDDEN, {"form": _locked(request)}
                        )
                    field = exc.extra.get("field", "form")
                    errors[field if field in ("name", "phone") else "form"] = i18n.gettext(
                        request,
                        N_("Check your phone number.")
                        if field == "phone"
                        else N_("Check your name."),
                    )
            if errors:
                form = {"name": name, "phone": phone}
                return await _card_page(wallet, HTTP_400_BAD_REQUEST, errors, form)
        return Redirect(f"{wallet.base}?saved=1", status_code=303, headers=HEADERS)

    @post("/{token:str}/logout", opt=WALLET, status_code=200)
    async def logout_everywhere(self, request: Request, token: FromPath[str]) -> Template:
        """Revoke every link of this member, this one too ("log out everywhere")."""
        async with open_wallet(request, token) as wallet:
            await links.revoke(wallet.member.id, expected=wallet.version, why="member")
        return _link_page(request, 200, signed_out=True, shop=wallet.tenant.display_name)

    @post("/{token:str}/lang", opt=WALLET, status_code=303)
    async def language(self, request: Request, token: FromPath[str]) -> Redirect:
        """The member picks a language; it becomes their preference (the chat's too)."""
        form = await ui.form_data(request)
        locale = i18n.valid(form.get("locale"))
        back = form.get("next", "")
        async with open_wallet(request, token) as wallet:
            if locale is not None and locale != wallet.member.locale:
                await members.choose_language(wallet.member.id, locale)  # not audited
        target = back if back.startswith(f"{wallet.base}") and ui.safe_next(back, "") else ""
        return Redirect(target or wallet.base, status_code=303, headers=HEADERS)

    @get("/{token:str}/history", opt=WALLET)
    async def history(
        self, request: Request, token: FromPath[str], page: PageNumber = 1
    ) -> Template:
        page = max(1, page)
        async with open_wallet(request, token) as wallet:
            # What happened, in the member's language (loyalchat.purchases.history).
            entries = await member_history.points_history(
                wallet.member.id,
                wallet.locale,
                limit=HISTORY_PAGE,
                offset=(page - 1) * HISTORY_PAGE,
            )
            return _page(
                wallet,
                "history",
                "history",
                rows=entries.items,
                fmt=view.display(wallet),
                page=page,
                has_more=entries.has_more,
            )

    @get("/{token:str}/rewards", opt=WALLET)
    async def catalogue(self, request: Request, token: FromPath[str]) -> Template:
        now = datetime.now(UTC)
        async with open_wallet(request, token) as wallet:
            found = await rewards.list_rewards(available_at=now, limit=200)
            items = [
                view.reward_card(reward, wallet.member.points, wallet.locale, now)
                for reward in found.items
            ]
            return _page(wallet, "rewards", "rewards", rewards=items)

    @get("/{token:str}/media/{key:str}", opt=WALLET)
    async def picture(
        self, request: Request, token: FromPath[str], key: FromPath[str]
    ) -> Response[bytes]:
        """A picture of the shop's rewards catalogue; the shop's other files are not served."""
        async with open_wallet(request, token):
            if not await rewards.image_in_catalogue(key):
                raise NotFoundException()
            try:
                return await media_response(request, key, headers=PICTURE_HEADERS)
            except MediaNotFound:
                raise NotFoundException() from None

    @get("/{token:str}/rewards/{reward_id:int}", opt=WALLET)
    async def confirm(
        self, request: Request, token: FromPath[str], reward_id: PathId
    ) -> Template | Redirect:
        """The confirm step: what it costs, the balance after, and one form token.

        The form token is in the page's address (``?form=``; a fresh one is handed out by
        a redirect), so the page reached again after redeeming (Back, reload) finds its
        token spent and shows the grant it made instead of a second live form.
        """
        form_token = request.query_params.get("form", "")
        async with open_wallet(request, token) as wallet:
            if not _FORM_TOKEN.fullmatch(form_token):
                fresh = f"{wallet.base}/rewards/{reward_id}?form={secrets.token_urlsafe(18)}"
                return Redirect(fresh, status_code=303, headers=HEADERS)
            spent = await rewards.grant_by_key(
                _redeem_key(wallet, form_token), locale=wallet.locale
            )
            if spent is not None:
                return _page(
                    wallet,
                    "confirm",
                    "rewards",
                    reward=None,
                    spent=_grant_card(request, wallet, spent),
                )
            return await _confirm_page(wallet, reward_id, form_token=form_token)

    @post("/{token:str}/rewards/{reward_id:int}", opt=WALLET, status_code=HTTP_201_CREATED)
    async def redeem(self, request: Request, token: FromPath[str], reward_id: PathId) -> Template:
        form = await ui.form_data(request)
        form_token = form.get("form_token", "")
        async with open_wallet(request, token) as wallet:
            if not _FORM_TOKEN.fullmatch(form_token):
                return await _confirm_page(
                    wallet, reward_id, error=N_("Please try again."), status=400
                )
            try:
                grant = await rewards.redeem(
                    wallet.member.id,
                    reward_id,
                    key=_redeem_key(wallet, form_token),
                    pm=getattr(request.app.state, "plugins", None),
                )
            except DomainError as exc:
                message = view.REDEEM_ERRORS.get(exc.code, view.GENERIC_REDEEM_ERROR)
                status = exc.status if 400 <= exc.status < 500 else 409
                return await _confirm_page(wallet, reward_id, error=message, status=status)
            # Balances changed: read the member again for the card.
            wallet = Wallet(
                wallet.token,
                wallet.tenant,
                await members.get_member_by_id(wallet.member.id),
                wallet.locale,
                wallet.version,
            )
            return _page(
                wallet,
                "redeemed",
                "mine",
                HTTP_201_CREATED,
                grant=_grant_card(request, wallet, grant),
                replayed=grant.replayed,
            )

    @get("/{token:str}/mine", opt=WALLET)
    async def mine(self, request: Request, token: FromPath[str]) -> Template:
        """My rewards (我的獎賞): coupons with their QR codes, newest first."""
        async with open_wallet(request, token) as wallet:
            grants = await rewards.member_grants(wallet.member.id, locale=wallet.locale, limit=200)
            cards = [_grant_card(request, wallet, grant) for grant in grants]
            return _page(
                wallet,
                "mine",
                "mine",
                usable=[c for c in cards if c["usable"]],
                past=[c for c in cards if not c["usable"]],
            )


async def _card_page(
    wallet: Wallet,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    grants = await rewards.member_grants(wallet.member.id, "issued", limit=100)
    return _page(
        wallet, "card", "card", status, ready=len(grants), form=form or {}, errors=errors or {}
    )


def _locked(request: Request) -> str:
    return i18n.gettext(request, view.PROFILE_LOCKED)


def _grant_card(request: Request, wallet: Wallet, grant: Any) -> dict[str, Any]:
    label = i18n.gettext(request, N_("QR code of coupon %(code)s"), code=grant.code)
    return view.grant_card(grant, wallet.locale, wallet.tenant.timezone, label)


def _redeem_key(wallet: Wallet, form_token: str) -> str:
    """The redemption's idempotency key: one per confirm form shown to this member."""
    return f"wallet:{wallet.member.id}:{form_token}"


async def _confirm_page(
    wallet: Wallet,
    reward_id: int,
    *,
    error: str = "",
    status: int = 200,
    form_token: str = "",
) -> Template:
    now = datetime.now(UTC)
    try:
        reward = await rewards.get_reward(reward_id)
    except NotFound:
        return _page(wallet, "confirm", "rewards", 404, reward=None, error="", form_token="")
    item = view.reward_card(reward, wallet.member.points, wallet.locale, now)
    return _page(
        wallet,
        "confirm",
        "rewards",
        status,
        reward=item,
        after=wallet.member.points - reward.points_cost,
        error=error,
        # One token per form shown: the same form submitted twice redeems once.
        form_token=form_token or secrets.token_urlsafe(18),
    )

"""Members in the console: list and search, detail with history, profile, purchases,
point adjustments, stored value and merging.

Thin: every rule lives in ``members.service``, ``ledger.service``, ``ledger.stored_value`` and
``purchases.service``. Forms that move points or money carry a one-time token that becomes
the ledger's idempotency key (``adjust:<token>``, ``topup:<token>``...), so a double
click records once. Cashiers add purchases and edit profiles; adjustments, stored value
and merges need a manager.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.bounds import PageNumber, PathId
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, error_message, field_of
from loyalchat.frontend.pages.console.member_detail import (
    detail_page,
    member_or_404,
    wallet_handout,
)
from loyalchat.i18n import N_
from loyalchat.ledger import stored_value
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate, MemberOut, MemberUpdate
from loyalchat.purchases import service as purchases
from loyalchat.rewards import qr
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.tables import Role

MEMBER = {"tenant_object": "member"}
CASHIER = (role_required(Role.cashier),)
MANAGER = [role_required(Role.manager)]
PER_PAGE = 20
# List tabs: all members, real ones (a name and a contact), and those who only scanned.
SHOWS = {"all": None, "verified": True, "unverified": False}
RESULT_KEY = "_lc_purchase"
NAME_OR_PHONE = N_("Enter the member's name or phone number (at least one of them).")


def _url(member: MemberOut, anchor: str = "") -> str:
    return f"/console/members/{member.id}" + (f"#{anchor}" if anchor else "")


def _problem(request: Request, exc: DomainError) -> tuple[str, str]:
    return field_of(exc), error_message(request, exc)


async def _all_problems(request: Request, fields: dict[str, Any]) -> dict[str, str]:
    """Every problem of a member form's text fields at once, by field, in the form's
    language (the service would stop at the first)."""
    return dict(_problem(request, exc) for exc in await members.profile_problems(fields))


def _status(exc: DomainError) -> int:
    """409 when the rules refuse (not enough points), 400 for a mistake in the form."""
    return HTTP_409_CONFLICT if exc.status == HTTP_409_CONFLICT else HTTP_400_BAD_REQUEST


class MembersController(Controller):
    path = "/console/members"
    include_in_schema = False
    guards = CASHIER

    @get("/")
    async def list_members(
        self,
        request: Request,
        q: FromQuery[str] = "",
        show: FromQuery[str] = "all",
        page: PageNumber = 1,
    ) -> Template:
        """Search by name, phone or number; tabs keep scan-only joiners apart."""
        show = show if show in SHOWS else "all"
        page = max(1, page)
        q = q.strip()[:100]
        found = await members.search_members(
            q, verified=SHOWS[show], limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        counts = {
            name: (await members.search_members(q, verified=flag, limit=1)).total
            for name, flag in SHOWS.items()
        }
        return Template(
            "console/members/list.html",
            context=base_context(
                request,
                found=found,
                q=q,
                show=show,
                page=page,
                pages=max(1, -(-found.total // PER_PAGE)),
                counts=counts,
                can_manage=principal_of(request).has_role(Role.manager),
            ),
        )

    @get("/new")
    async def new_member(self, request: Request) -> Template:
        return Template(
            "console/members/new.html",
            context=base_context(request, form={"token": ff.new_token()}, errors={}),
        )

    @post("/", status_code=303)
    async def create(self, request: Request) -> Response[Any]:
        """A member added at the counter: at least a name or a phone number. (The API and
        the chat may create a blank member on purpose: a chat join knows nothing yet.)"""
        form = await ui.form_data(request)
        data = MemberCreate(
            name=form.get("name", ""),
            phone=form.get("phone", ""),
            email=form.get("email", ""),
            marketing_opt_in=ff.checked(form, "marketing_opt_in"),
        )
        problems = await _all_problems(
            request, {"name": data.name, "phone": data.phone, "email": data.email}
        )
        if problems:
            return self._new_member_error(request, form, problems)
        try:
            if not (data.name.strip() or data.phone.strip()):
                raise ff.FieldError("name", NAME_OR_PHONE)
            member = await members.create_member(data, key=ff.create_key(form, "console-member"))
        except ff.FieldError as exc:
            return self._new_member_error(request, form, ff.messages(request, exc))
        except DomainError as exc:
            field, message = _problem(request, exc)
            return self._new_member_error(request, form, {field or "form": message})
        ui.flash(request, N_("Member %(no)s added."), "success", no=member.member_no)
        return Redirect(_url(member), status_code=303)

    @staticmethod
    def _new_member_error(
        request: Request, form: dict[str, str], errors: dict[str, str]
    ) -> Template:
        return Template(
            "console/members/new.html",
            context=base_context(request, form=form, errors=errors),
            status_code=HTTP_400_BAD_REQUEST,
        )

    @get("/{member_id:int}", opt=MEMBER)
    async def detail(self, request: Request, member_id: PathId, hpage: PageNumber = 1) -> Template:
        member = await member_or_404(member_id)
        result = request.session.pop(RESULT_KEY, None)
        if result and result.get("member_id") != member.id:
            result = None
        return await detail_page(request, member, history_page=hpage, purchase=result)

    @post("/{member_id:int}/profile", opt=MEMBER, status_code=303)
    async def save_profile(self, request: Request, member_id: PathId) -> Response[Any]:
        member = await member_or_404(member_id)
        form = await ui.form_data(request)
        fields: dict[str, Any] = {name: form[name] for name in _PROFILE_TEXT if name in form}
        if "birthday" in form:
            fields["birthday"] = form["birthday"].strip()
        if "tags" in form:
            fields["tags"] = ff.tags(form)
        problems = await _all_problems(request, fields)
        if problems:
            return await detail_page(
                request,
                member,
                forms={"profile": form},
                errors={"profile": problems},
                status_code=HTTP_400_BAD_REQUEST,
            )
        try:
            await members.update_member(member.member_no, _profile_update(form))
        except ff.FieldError as exc:
            return await self._profile_error(request, member, form, exc.field, exc.message)
        except DomainError as exc:
            field, message = _problem(request, exc)
            return await self._profile_error(request, member, form, field, message, raw=True)
        ui.flash(request, N_("Profile saved."), "success")
        return Redirect(_url(member), status_code=303)

    async def _profile_error(
        self,
        request: Request,
        member: MemberOut,
        form: dict[str, str],
        field: str,
        message: str,
        raw: bool = False,
    ) -> Template:
        text = message if raw else i18n.gettext(request, message)
        return await detail_page(
            request,
            member,
            forms={"profile": form},
            errors={"profile": {field or "form": text}},
            status_code=HTTP_400_BAD_REQUEST,
        )

    @post("/{member_id:int}/purchases", opt=MEMBER, status_code=303)
    async def add_purchase(self, request: Request, member_id: PathId) -> Response[Any]:
        """Points for a purchase through the earning rules; the result shows on the page."""
        member = await member_or_404(member_id)
        form = await ui.form_data(request)
        try:
            token = ff.token(form)
            amount = ff.amount(form, "amount")
            assert amount is not None
            reference = form.get("reference", "").strip() or f"console-{token[:16]}"
            result = await purchases.record_purchase(member.id, amount, reference=reference)
        except ff.FieldError as exc:
            message = i18n.gettext(request, exc.message)
            return await self._form_error(request, member, "purchase", form, exc.field, message)
        except DomainError as exc:
            field, message = _problem(request, exc)
            return await self._form_error(
                request, member, "purchase", form, field or "amount", message, _status(exc)
            )
        request.session[RESULT_KEY] = {
            "member_id": member.id,
            "amount": str(amount),
            "points": result.points,
            "balance": result.balance,
            "replayed": result.replayed,
            "reference": reference if form.get("reference", "").strip() else "",
            "capped_by": result.calculation.capped_by,
        }
        return Redirect(_url(member, "purchase"), status_code=303)

    @post("/{member_id:int}/adjustments", guards=MANAGER, opt=MEMBER, status_code=303)
    async def adjust(self, request: Request, member_id: PathId) -> Response[Any]:
        """Add (positive) or deduct (negative) points with a reason; once per form token."""
        member = await member_or_404(member_id)
        form = await ui.form_data(request)
        try:
            token = ff.token(form)
            points = ff.whole(form, "points", required=True)
            assert points is not None
            entry = await purchases.adjust_points(
                member.id, points, key=f"adjust:{token}", reason=form.get("reason", "")
            )
        except ff.FieldError as exc:
            message = i18n.gettext(request, exc.message)
            return await self._form_error(request, member, "adjust", form, exc.field, message)
        except DomainError as exc:
            field, message = _problem(request, exc)
            field = "reason" if exc.code == "reason_required" else field or "points"
            return await self._form_error(
                request, member, "adjust", form, field, message, _status(exc)
            )
        if entry.replayed:
            ui.flash(request, N_("This adjustment was already recorded."), "info")
        else:
            ui.flash(
                request,
                N_("Points adjusted by %(points)s. New balance: %(balance)s."),
                "success",
                points=f"{entry.points:+,}",
                balance=f"{entry.balance_after:,}",
            )
        return Redirect(_url(member, "history"), status_code=303)

    @post("/{member_id:int}/stored-value", guards=MANAGER, opt=MEMBER, status_code=303)
    async def move_stored_value(self, request: Request, member_id: PathId) -> Response[Any]:
        """Top up or spend stored value (會員卡金額); once per form token."""
        member = await member_or_404(member_id)
        form = await ui.form_data(request)
        action = form.get("action", "")
        try:
            token = ff.token(form)
            amount = ff.amount(form, "value_amount")
            if action == "topup":
                entry = await stored_value.top_up(
                    member.id, amount, key=f"topup:{token}", reason=form.get("value_reason", "")
                )
            elif action == "spend":
                entry = await stored_value.spend(
                    member.id, amount, key=f"spend:{token}", reason=form.get("value_reason", "")
                )
            else:
                raise ff.FieldError("action", N_("Choose top up or spend."))
        except ff.FieldError as exc:
            message = i18n.gettext(request, exc.message)
            return await self._form_error(request, member, "value", form, exc.field, message)
        except DomainError as exc:
            _, message = _problem(request, exc)
            return await self._form_error(
                request, member, "value", form, "value_amount", message, _status(exc)
            )
        if entry.replayed:
            ui.flash(request, N_("This was already recorded."), "info")
        else:
            ui.flash(request, N_("Stored value updated."), "success")
        return Redirect(_url(member, "stored-value"), status_code=303)

    async def _form_error(
        self,
        request: Request,
        member: MemberOut,
        name: str,
        form: dict[str, str],
        field: str,
        message: str,
        status: int = HTTP_400_BAD_REQUEST,
    ) -> Template:
        return await detail_page(
            request,
            member,
            forms={name: form},
            errors={name: {field or "form": message}},
            status_code=status,
        )

    @post("/{member_id:int}/wallet-links", guards=MANAGER, opt=MEMBER, status_code=303)
    async def sign_out_wallet_links(self, request: Request, member_id: PathId) -> Response[Any]:
        """Sign out all of the member's wallet links (a forwarded link, a lost phone).

        The form carries the link version it was shown with: sent twice, it revokes once.
        """
        member = await member_or_404(member_id)
        form = await ui.form_data(request)
        try:
            ff.token(form)
            shown = ff.whole(form, "version", required=True, minimum=0)
        except ff.FieldError:
            shown = None
        if shown is None or shown > links.MAX_VERSION:
            ui.flash(request, N_("The form has expired. Reload the page and try again."), "error")
        elif await links.revoke(member.id, expected=shown, why="staff") is None:
            ui.flash(request, N_("These wallet links were already signed out."), "info")
        else:
            ui.flash(request, N_("All wallet links of this member are signed out."), "success")
        return Redirect(_url(member, "wallet-links"), status_code=303)

    @get("/{member_id:int}/wallet-qr", opt=MEMBER)
    async def wallet_qr(self, request: Request, member_id: PathId) -> Response[str]:
        """The member's wallet link as a QR code (SVG) for their phone to scan; 404 while
        the shop is suspended or for a merged member (no link is handed out then)."""
        member = await member_or_404(member_id)
        handout = await wallet_handout(request, member)
        if handout is None:
            raise NotFoundException()
        return Response(
            qr.link_svg(handout.url),
            media_type="image/svg+xml",
            headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
        )

    @get("/{member_id:int}/merge", guards=MANAGER, opt=MEMBER)
    async def merge_confirm(
        self, request: Request, member_id: PathId, other: FromQuery[str] = ""
    ) -> Template:
        """Both members side by side, with the reason to give, before anything moves."""
        keep = await member_or_404(member_id)
        absorb, error = None, ""
        if other.strip():
            try:
                absorb = await members.get_member(other.strip().upper())
            except NotFound:
                error = i18n.gettext(request, N_("No member has the number %(no)s."), no=other)
            else:
                if absorb.id == keep.id:
                    absorb = None
                    error = i18n.gettext(request, N_("A member cannot be merged into itself."))
        return Template(
            "console/members/merge.html",
            context=base_context(
                request,
                keep=keep,
                absorb=absorb,
                other=other,
                error=error,
                error_field="other" if error else "",
                form={},
            ),
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    @post("/{member_id:int}/merge", guards=MANAGER, opt=MEMBER, status_code=303)
    async def merge(self, request: Request, member_id: PathId) -> Response[Any]:
        keep = await member_or_404(member_id)
        form = await ui.form_data(request)
        absorb_no = form.get("absorb_no", "").strip()
        try:
            if not ff.checked(form, "confirm"):
                raise DomainError("not confirmed", code="merge_unconfirmed")
            kept = await purchases.merge_members(keep.member_no, absorb_no, form.get("reason", ""))
        except DomainError as exc:
            if exc.code == "merge_unconfirmed":
                message = i18n.gettext(request, N_("Tick the box to confirm the merge."))
            else:
                message = error_message(request, exc)
            try:
                absorb = await members.get_member(absorb_no) if absorb_no else None
            except NotFound:
                absorb = None
            return Template(
                "console/members/merge.html",
                context=base_context(
                    request,
                    keep=keep,
                    absorb=absorb,
                    other=absorb_no,
                    error=message,
                    error_field="confirm" if exc.code == "merge_unconfirmed" else "",
                    form=form,
                ),
                status_code=HTTP_400_BAD_REQUEST,
            )
        ui.flash(
            request,
            N_("%(absorbed)s was merged into %(kept)s."),
            "success",
            absorbed=absorb_no,
            kept=kept.member_no,
        )
        return Redirect(_url(kept), status_code=303)


_PROFILE_TEXT = ("name", "phone", "email", "notes", "locale")


def _profile_update(form: dict[str, str]) -> MemberUpdate:
    """The profile form's change. The page sends every field, so a field that is missing
    keeps its value rather than being blanked; a request with none of them is refused."""
    given: dict[str, Any] = {name: form[name] for name in _PROFILE_TEXT if name in form}
    if "birthday" in form:
        given["birthday"] = ff.day(form, "birthday")
    if "tags" in form:
        given["tags"] = ff.tags(form)
    if not given:
        raise ff.FieldError("form", N_("The form has expired. Reload the page and try again."))
    # A check box that is not ticked is not sent: its absence means "no".
    given["marketing_opt_in"] = ff.checked(form, "marketing_opt_in")
    return MemberUpdate(**given)

"""The shop's plan and payments: ``/console/billing``.

Owners choose, upgrade or downgrade a plan (through any installed payment provider),
upload the slip of a bank transfer and open the provider's portal; managers read. Open in
every shop status: a shop that is applying pays here, and a suspended one pays to be
active again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.billing import service as billing
from loyalchat.billing.usage import TITLES
from loyalchat.bounds import PathId
from loyalchat.domain import DomainError
from loyalchat.extensions.payments import PaymentPortal, portal_url
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common.display import base_context
from loyalchat.i18n import N_
from loyalchat.media import store
from loyalchat.tenants.access import ANY_STATUS
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.tables import Role

SLIP_FIELD = "slip"
SLIP_BODY = 11 * 1024 * 1024  # the slip's 10 MB and the form around it
OWNER = [role_required(Role.owner)]
MANAGER = [role_required(Role.manager)]
PAYMENT = {"tenant_object": "billing_payment"}
NO_FILE = N_("Choose the photo or PDF of your transfer slip.")
CHOSEN = N_("Pay %(amount)s as shown below; the plan changes once the payment is confirmed.")
SLIP_SAVED = N_("Thank you. We check the transfer and confirm it within one working day.")
NO_PORTAL = N_("The payment provider has no page for this shop yet.")
TRIAL_ON = N_(
    "Your trial has started: the plan runs now. Pay %(amount)s as shown below before the "
    "trial ends."
)
TRIAL_AT_APPROVAL = N_(
    "Your trial starts when your shop is approved: no need to wait for the payment. Pay "
    "%(amount)s as shown below before the trial ends."
)
PLAN_STATES = {
    "none": N_("No plan yet"),
    "pending": N_("Waiting for the first payment"),
    "trialing": N_("Trial"),
    "paid": N_("Paid"),
    "past_due": N_("Payment overdue"),
    "cancelled": N_("Cancelled"),
}
PAYMENT_STATES = {
    "pending": N_("Waiting"),
    "succeeded": N_("Paid"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


def tenant_id(request: Request) -> int:
    tenant = principal_of(request).tenant
    assert tenant is not None  # the role guard saw one
    return tenant.id


async def usage_rows(tid: int) -> list[dict[str, Any]]:
    return [
        {"metric": metric, "title": TITLES[metric], "use": use}
        for metric, use in (await billing.usage(tid)).items()
    ]


def leave_for(request: Request, url: str, provider: str) -> Template:
    """A page that goes on to ``url`` (a provider's own page) by itself. Not a redirect:
    the console's CSP lets a form post only to this site (``form-action 'self'``), and a
    browser holds a form's redirects to that too."""
    found = billing.providers().get(provider)
    return Template(
        "console/billing/leave.html",
        context=base_context(request, url=url, provider=getattr(found, "label", "") or provider),
        status_code=200,
        headers={"cache-control": "private, no-store"},
    )


async def page(
    request: Request, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    tid = tenant_id(request)
    sub = await billing.subscription_row(tid)
    providers = billing.providers()
    provider = providers.get(sub["provider"]) if sub else None
    payments = await billing.list_payments(tid)
    plans = await billing.list_plans()
    plan_names = {p.id: p.name for p in await billing.list_plans(active_only=False)}
    state = await billing.payment_state(tid)
    trial_ends = sub["trial_ends_at"] if sub else None
    return Template(
        "console/billing/index.html",
        context=base_context(
            request,
            state=state,
            trial_ends=trial_ends,
            # a trial shows until it ends, also once the first month is paid
            in_trial=state == "trialing"
            or (trial_ends is not None and trial_ends > datetime.now(UTC)),
            PLAN_STATES=PLAN_STATES,
            PAYMENT_STATES=PAYMENT_STATES,
            USAGE_TITLES=TITLES,
            sub=sub,
            plan=await billing.plan_of(tid),
            plans=plans,
            plan_names=plan_names,
            providers=[(name, p.label) for name, p in providers.items()],
            has_portal=isinstance(provider, PaymentPortal),
            usage=await usage_rows(tid),
            payments=payments,
            can_pay=principal_of(request).has_role(Role.owner),
            errors=errors or {},
        ),
        status_code=status_code,
    )


class BillingController(Controller):
    path = "/console/billing"
    include_in_schema = False
    opt = ANY_STATUS

    @get("/", guards=MANAGER)
    async def index(self, request: Request) -> Template:
        return await page(request)

    @get("/banner", guards=[role_required(Role.cashier)])
    async def banner(self, request: Request) -> Template:
        """The usage banner alone (every console page loads it after the page)."""
        rows = [row for row in await usage_rows(tenant_id(request)) if row["use"].level != "ok"]
        return Template(
            "console/billing/_usage_banner_body.html",
            context={"rows": rows, "can_pay": principal_of(request).has_role(Role.manager)},
        )

    @post("/choose", guards=OWNER, status_code=303)
    async def choose(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        code, provider = form.get("plan", ""), form.get("provider", "")
        if not code or not provider:
            message = i18n.gettext(request, N_("Choose a plan and a way to pay."))
            return await page(request, errors={"plan": message}, status_code=HTTP_400_BAD_REQUEST)
        try:
            start = await billing.choose_plan(tenant_id(request), code, provider)
        except DomainError as exc:
            message = i18n.gettext(request, exc.message)
            return await page(request, errors={"plan": message}, status_code=HTTP_400_BAD_REQUEST)
        if start.redirect_url.startswith(("https://", "http://")):
            return leave_for(request, start.redirect_url, provider)
        payment = await billing.pending_payment(tenant_id(request))
        if payment is None:  # decided or replaced meanwhile (another tab): the page says
            return Redirect("/console/billing", status_code=303)
        sub = await billing.subscription_row(tenant_id(request))
        message = CHOSEN
        if sub and sub["status"] == "trialing" and sub["plan"] == payment.plan_id:
            message = TRIAL_ON if sub["trial_ends_at"] else TRIAL_AT_APPROVAL
        ui.flash(request, message, "success", amount=f"{payment.currency} {payment.amount}")
        return Redirect(f"/console/billing#payment-{payment.id}", status_code=303)

    @post(
        "/payments/{payment_id:int}/slip",
        guards=OWNER,
        opt=PAYMENT,
        status_code=303,
        request_max_body_size=SLIP_BODY,
    )
    async def upload_slip(self, request: Request, payment_id: PathId) -> Response[Any]:
        from loyalchat.onboarding.documents import DocumentRejected, check_upload

        tid = tenant_id(request)
        payment = await _own_payment(tid, payment_id)  # first: another shop's is a 404
        if payment.provider != billing.MANUAL or payment.status != "pending":
            raise NotFoundException()
        form = await ui.form_data(request)
        upload = await _file(request)
        if upload is None:
            return await _slip_error(request, payment_id, i18n.gettext(request, NO_FILE))
        filename, data = upload
        try:
            checked = await asyncio.to_thread(check_upload, data)
        except DocumentRejected as exc:
            return await _slip_error(request, payment_id, i18n.gettext(request, exc.message))
        try:
            key = await store.save(data, kind="payment_slip")
            preview = await store.save(checked.preview_png, kind="payment_slip_preview")
            await billing.attach_slip(
                tid,
                payment_id,
                reference=form.get("reference", ""),
                slip_key=key,
                preview_key=preview,
                content_type=checked.content_type,
                filename=_clean_name(filename),
            )
        except DomainError as exc:
            return await _slip_error(request, payment_id, i18n.gettext(request, exc.message))
        ui.flash(request, SLIP_SAVED, "success")
        return Redirect(f"/console/billing#payment-{payment_id}", status_code=303)

    @get("/payments/{payment_id:int}/slip", guards=MANAGER, opt=PAYMENT)
    async def slip(self, request: Request, payment_id: PathId) -> Response[bytes]:
        """The uploaded slip's first page, as the clean PNG made from it."""
        payment = await _own_payment(tenant_id(request), payment_id)
        if not payment.slip_preview_key:
            raise NotFoundException()
        data = await store.read(payment.slip_preview_key)
        return Response(
            data,
            media_type="image/png",
            headers={"cache-control": "private, no-store", "x-content-type-options": "nosniff"},
        )

    @post("/portal", guards=OWNER, status_code=303)
    async def portal(self, request: Request) -> Response[Any]:
        """The payment provider's own page (cards, invoices, cancel), when it has one."""
        await ui.form_data(request)
        tid = tenant_id(request)
        sub = await billing.subscription_row(tid)
        provider = billing.providers().get(sub["provider"]) if sub else None
        url = await portal_url(provider, tid, "/console/billing") if provider else None
        if not url:
            ui.flash(request, NO_PORTAL, "error")
            return Redirect("/console/billing", status_code=303)
        return leave_for(request, url, sub["provider"])


async def _own_payment(tid: int, payment_id: int) -> billing.PaymentInfo:
    try:
        return await billing.get_payment(tid, payment_id)
    except DomainError:
        raise NotFoundException() from None


async def _file(request: Request) -> tuple[str, bytes] | None:
    """The slip sent (browsers send one empty part when none is chosen); one byte past the
    limit is read, enough to refuse it as too large."""
    from loyalchat.onboarding.documents import MAX_BYTES

    form = await request.form()
    part = form.get(SLIP_FIELD)
    if isinstance(part, UploadFile) and part.filename:
        data = await part.read(MAX_BYTES + 1)
        return part.filename, data
    return None


def _clean_name(name: str) -> str:
    from loyalchat.onboarding.documents import clean_filename

    return clean_filename(name)


async def _slip_error(request: Request, payment_id: int, message: str) -> Template:
    return await page(
        request, errors={f"slip-{payment_id}": message}, status_code=HTTP_400_BAD_REQUEST
    )

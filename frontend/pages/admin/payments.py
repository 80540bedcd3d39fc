"""Payments (/admin/payments): platform admins see the transfers waiting, with the
merchant's slip, and confirm or reject each one (once, even when two admins click at the
same moment); every decision is in the shop's audit log. The ``status`` filter shows,
instead, the payments that failed lately (``failed``) or the shops whose payment is
overdue (``overdue``: in their grace period), every shop together."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_409_CONFLICT

from loyalchat.billing import service as billing
from loyalchat.bounds import PathId
from loyalchat.context import cross_tenant, current_actor, tenant_context
from loyalchat.domain import Conflict, NotFound
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.media import store
from loyalchat.tenants.auth import platform_admin_required
from loyalchat.tenants.service import get_tenant

PLATFORM = {"platform_admin": True}
DECIDED = N_("This payment was already decided.")
CONFIRMED = N_("The payment of %(shop)s is confirmed.")
REJECTED = N_("The payment of %(shop)s is marked as not received.")
MAX_REASON = 300
STATUS_FILTERS = {
    "waiting": N_("Waiting for a decision"),
    "failed": N_("Failed (30 days)"),
    "overdue": N_("Payment overdue"),
}


async def _rows(payments: list[billing.PaymentInfo]) -> list[dict[str, Any]]:
    shops: dict[int, Any] = {}
    rows = []
    for payment in payments:
        if payment.tenant_id not in shops:
            shops[payment.tenant_id] = await get_tenant(payment.tenant_id)
        rows.append({"payment": payment, "shop": shops[payment.tenant_id]})
    return rows


class AdminPaymentsController(Controller):
    path = "/admin/payments"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt=PLATFORM)
    async def index(self, request: Request, status: FromQuery[str] = "waiting") -> Template:
        status = status if status in STATUS_FILTERS else "waiting"
        plans = {p.id: p.name for p in await billing.list_plans(active_only=False)}
        context: dict[str, Any] = {
            "status": status,
            "status_filters": STATUS_FILTERS,
            "figures": await billing.payment_figures(),
            "plans": plans,
            "rows": [],
            "overdue": [],
        }
        if status == "waiting":
            context["rows"] = await _rows(await billing.pending_manual_payments())
        elif status == "failed":
            context["rows"] = await _rows(await billing.failed_payments())
        else:
            context["overdue"] = [
                {"shop": await get_tenant(shop.tenant_id), "sub": shop}
                for shop in await billing.overdue_shops()
            ]
        return Template(
            "admin/payments.html", context=context, headers={"cache-control": "no-store"}
        )

    @get("/{payment_id:int}/slip", opt=PLATFORM)
    async def slip(
        self, request: Request, payment_id: PathId, original: FromQuery[bool] = False
    ) -> Response[bytes]:
        """The slip: its first page as the clean PNG made at upload (shown inline), or the
        file as uploaded (``?original=true``: a download, never rendered by the browser)."""
        payment = await _payment_or_404(payment_id)
        key = payment.slip_key if original else payment.slip_preview_key
        if not key:
            raise NotFoundException()
        with (
            cross_tenant("platform admin: a shop's payment slip"),
            tenant_context(payment.tenant_id),
        ):
            data = await store.read(key)
        headers = {"cache-control": "private, no-store", "x-content-type-options": "nosniff"}
        if original:
            headers["content-disposition"] = f'attachment; filename="slip-{payment.id}"'
            return Response(data, media_type="application/octet-stream", headers=headers)
        return Response(data, media_type="image/png", headers=headers)

    @post("/{payment_id:int}/confirm", opt=PLATFORM, status_code=303)
    async def confirm(self, request: Request, payment_id: PathId) -> Response[Any]:
        await ui.form_data(request)
        payment = await _payment_or_404(payment_id)
        try:
            applied = await billing.confirm_manual_payment(payment.id, actor=current_actor())
        except Conflict:
            applied = False
        if not applied:
            raise ClientException(DECIDED, status_code=HTTP_409_CONFLICT)
        shop = await get_tenant(payment.tenant_id)
        ui.flash(request, CONFIRMED, "success", shop=shop.display_name if shop else "")
        return Redirect("/admin/payments", status_code=303)

    @post("/{payment_id:int}/reject", opt=PLATFORM, status_code=303)
    async def reject(self, request: Request, payment_id: PathId) -> Response[Any]:
        form = await ui.form_data(request)
        payment = await _payment_or_404(payment_id)
        reason = " ".join(form.get("reason", "").split())[:MAX_REASON]
        try:
            applied = await billing.reject_manual_payment(
                payment.id, actor=current_actor(), reason=reason
            )
        except Conflict:
            applied = False
        if not applied:
            raise ClientException(DECIDED, status_code=HTTP_409_CONFLICT)
        shop = await get_tenant(payment.tenant_id)
        ui.flash(request, REJECTED, "success", shop=shop.display_name if shop else "")
        return Redirect("/admin/payments", status_code=303)


async def _payment_or_404(payment_id: int) -> billing.PaymentInfo:
    try:
        return await billing.manual_payment(payment_id)
    except NotFound:
        raise NotFoundException() from None

"""The platform admin's application review: the queue, one application, the decisions.

Thin: ``loyalchat.onboarding.review`` reads the queue and the application and makes the
decisions (status, history, audit, e-mail); this module parses, shows and redirects.
Suspending and reactivating an approved shop stay on the shop's page (``admin/home.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.billing import service as billing
from loyalchat.bounds import InvalidCharacter, PathId
from loyalchat.context import current_actor, tenant_context
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common.display import base_context, display_for
from loyalchat.frontend.pages.console import charts
from loyalchat.i18n import N_
from loyalchat.media.responses import media_response
from loyalchat.media.store import MediaNotFound
from loyalchat.onboarding import review
from loyalchat.receipts.stats import platform_receipts_per_day
from loyalchat.tenants.auth import platform_admin_required

PLATFORM = {"platform_admin": True}
FIGURE_DAYS = 14  # the admin home's receipts chart
STATUS_FILTERS = {
    "pending_review": N_("Waiting for review"),
    "rejected": N_("Sent back"),
    "applying": N_("Still applying"),
    "all": N_("All"),
}
REGION_FILTERS = {"": N_("Every region"), "HK": N_("Hong Kong"), "CN": N_("Mainland China")}
AGE_FILTERS = {
    "": (N_("Any wait"), None),
    "1d": (N_("Waiting over 1 day"), timedelta(days=1)),
    "3d": (N_("Waiting over 3 days"), timedelta(days=3)),
    "7d": (N_("Waiting over 7 days"), timedelta(days=7)),
}
PAYMENT_LABELS = {
    "none": N_("No payment yet"),
    "pending": N_("Payment pending"),
    "trialing": N_("In the plan's trial"),
    "paid": N_("Paid"),
    "past_due": N_("Payment overdue"),
    "cancelled": N_("Cancelled"),
}
DECISION_LABELS = {
    "": N_("Not decided"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "changes_requested": N_("Changes requested"),
}
EVENT_LABELS = {
    "submitted": N_("Submitted"),
    "resubmitted": N_("Submitted again"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "changes_requested": N_("Changes requested"),
    "document_uploaded": N_("Document uploaded"),
    "payment_confirmed": N_("Payment confirmed"),
}
DOCUMENT_LABELS = {
    "business_registration": N_("Business registration"),
    "payment_slip": N_("Payment slip"),
    "receipt_sample": N_("Sample receipt"),
}
CHECK_LABELS = {"match": N_("Matches"), "mismatch": N_("Does not match"), "unread": N_("Not read")}
REASON_REQUIRED = N_("Say what the merchant should fix: they read it in the e-mail and console.")
BAD_CHARACTER = N_("The text holds a character that cannot be stored (a control character).")
NOT_PAID = N_(
    "The payment has not been received (%(state)s). Tick \u201capprove without payment\u201d "
    "to open the shop anyway: the audit log records it."
)
NOT_PENDING = N_("This application is not waiting for review: someone decided it already.")
DONE = {
    "approved": N_("%(shop)s is approved and active."),
    "rejected": N_("%(shop)s's application is rejected."),
    "changes_requested": N_("%(shop)s was asked for changes."),
}
MAILED = N_("E-mails sent to the owners: %(count)s.")


class ApplicationsController(Controller):
    path = "/admin/applications"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt=PLATFORM)
    async def queue(
        self,
        request: Request,
        status: FromQuery[str] = "pending_review",
        region: FromQuery[str] = "",
        age: FromQuery[str] = "",
    ) -> Template:
        """The applications, longest waiting first, filtered by status, region and wait."""
        status = status if status in STATUS_FILTERS else "pending_review"
        region = region if region in REGION_FILTERS else ""
        age = age if age in AGE_FILTERS else ""
        now = datetime.now(UTC)
        rows = await review.review_queue(
            status=None if status == "all" else status,
            region=region or None,
            older_than=AGE_FILTERS[age][1],
            now=now,
        )
        babel = i18n.babel_locale(i18n.locale_of(request))
        return Template(
            "admin/applications.html",
            context=base_context(
                request,
                rows=[{"row": row, "age": _age(row.age(now), babel)} for row in rows],
                counts=await review.queue_counts(),
                status=status,
                region=region,
                age=age,
                status_filters=STATUS_FILTERS,
                region_filters=REGION_FILTERS,
                age_filters={key: label for key, (label, _) in AGE_FILTERS.items()},
                decision_labels=DECISION_LABELS,
            ),
        )

    @get("/{tenant_id:int}", opt=PLATFORM)
    async def detail(self, request: Request, tenant_id: PathId) -> Template:
        return await _detail_page(request, tenant_id)

    @get("/{tenant_id:int}/media/{key:str}", opt=PLATFORM)
    async def media(self, request: Request, tenant_id: PathId, key: FromPath[str]) -> Response:
        """One of the shop's files (its documents, their previews, its sample receipts)."""
        with tenant_context(tenant_id):
            try:
                return await media_response(request, key, headers={"content-disposition": "inline"})
            except MediaNotFound:
                raise NotFoundException() from None

    @post("/{tenant_id:int}/approve", opt=PLATFORM, status_code=303)
    async def approve(self, request: Request, tenant_id: PathId) -> Response[Any]:
        form = await ui.form_data(request)
        return await _decide(
            request,
            tenant_id,
            "approve",
            review.approve(
                tenant_id,
                actor=current_actor(),
                note=form.get("note", ""),
                without_payment=form.get("without_payment") in {"1", "on", "true"},
            ),
        )

    @post("/{tenant_id:int}/reject", opt=PLATFORM, status_code=303)
    async def reject(self, request: Request, tenant_id: PathId) -> Response[Any]:
        form = await ui.form_data(request)
        work = review.reject(tenant_id, actor=current_actor(), reason=form.get("reason", ""))
        return await _decide(request, tenant_id, "reject", work)

    @post("/{tenant_id:int}/request-changes", opt=PLATFORM, status_code=303)
    async def request_changes(self, request: Request, tenant_id: PathId) -> Response[Any]:
        form = await ui.form_data(request)
        work = review.request_changes(
            tenant_id, actor=current_actor(), reason=form.get("reason", "")
        )
        return await _decide(request, tenant_id, "changes", work)


async def _decide(request: Request, tenant_id: int, form_name: str, work: Any) -> Response[Any]:
    """Run one decision; its refusals come back as the page with the form's error."""
    try:
        outcome = await work
    except review.ApplicationMissing:
        raise NotFoundException() from None
    except review.ReasonRequired:
        return await _detail_page(
            request, tenant_id, errors={form_name: i18n.gettext(request, REASON_REQUIRED)}
        )
    except InvalidCharacter:
        return await _detail_page(
            request, tenant_id, errors={form_name: i18n.gettext(request, BAD_CHARACTER)}
        )
    except review.NotPaid as exc:
        state = i18n.gettext(request, PAYMENT_LABELS.get(exc.extra.get("payment_state", ""), "?"))
        error = i18n.gettext(request, NOT_PAID, state=state)
        return await _detail_page(
            request, tenant_id, errors={form_name: error}, status_code=HTTP_409_CONFLICT
        )
    except review.NotPending:
        raise ClientException(NOT_PENDING, status_code=HTTP_409_CONFLICT) from None
    ui.flash(request, DONE[outcome.decision], "success", shop=outcome.shop)
    if outcome.mailed:
        ui.flash(request, MAILED, "info", count=str(outcome.mailed))
    return Redirect(f"/admin/applications/{tenant_id}", status_code=303)


async def _detail_page(
    request: Request,
    tenant_id: int,
    *,
    errors: dict[str, str] | None = None,
    status_code: int | None = None,
) -> Template:
    try:
        found = await review.application_file(tenant_id)
    except review.ApplicationMissing:
        raise NotFoundException() from None
    babel = i18n.babel_locale(i18n.locale_of(request))
    now = datetime.now(UTC)
    waiting_since = found.application.submitted_at or found.application.created_at or now
    registration = [d for d in found.documents if d["kind"] == "business_registration"]
    return Template(
        "admin/application.html",
        context=base_context(
            request,
            file=found,
            tenant=found.tenant,
            app=found.application,
            registration=registration[0] if registration else None,
            documents=found.documents,
            waiting=_age(now - waiting_since, babel),
            errors=errors or {},
            payment_labels=PAYMENT_LABELS,
            decision_labels=DECISION_LABELS,
            event_labels=EVENT_LABELS,
            document_labels=DOCUMENT_LABELS,
            check_labels=CHECK_LABELS,
            pdf_type="application/pdf",
        ),
        status_code=status_code or (HTTP_400_BAD_REQUEST if errors else 200),
    )


def _age(age: timedelta, babel: Any) -> str:
    return format_timedelta(max(age, timedelta(0)), threshold=1.1, locale=babel)


async def platform_figures(request: Request) -> dict[str, Any]:
    """The admin home's platform figures: applications waiting and the oldest's wait,
    receipts per day of every shop (last :data:`FIGURE_DAYS` days), payments failed in
    the last 30 days and shops in their grace period (payment overdue)."""
    now = datetime.now(UTC)
    babel = i18n.babel_locale(i18n.locale_of(request))
    waiting = await review.waiting_for_review()
    days = await platform_receipts_per_day(FIGURE_DAYS, ZoneInfo(display_for(request).timezone))
    payments = await billing.payment_figures(now)
    return {
        "waiting": waiting.count,
        "oldest": _age(now - waiting.oldest, babel) if waiting.oldest else "",
        "receipt_days": FIGURE_DAYS,
        "receipts": sum(day.count for day in days),
        "receipts_chart": charts.columns(
            [day.day for day in days], {"receipts": [day.count for day in days]}
        ),
        "failed_payments": payments.failed,
        "failed_days": payments.days,
        "in_grace": payments.in_grace,
    }

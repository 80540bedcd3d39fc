"""What every wizard page shows: the application's state, the steps done, the history.

The payment state comes from ``billing.service.payment_state`` when billing is installed;
otherwise the page says payment is not available yet (nothing else depends on it here:
the platform admin's approval checks the payment).
"""

from __future__ import annotations

import importlib
from typing import Any

import structlog
from litestar import Request

from loyalchat.i18n import N_
from loyalchat.onboarding import service as applications
from loyalchat.onboarding.tables import DocumentKind
from loyalchat.tenants.auth import principal_of
from loyalchat.tenants.tables import Role, TenantStatus

log = structlog.get_logger(__name__)

STEPS = (
    (1, "details", N_("Business details")),
    (2, "registration", N_("Business registration")),
    (3, "plan", N_("Plan and payment")),
    (4, "receipts", N_("Receipt samples")),
    (5, "channels", N_("Chat channels")),
)
STEP_PATHS = {number: f"/onboarding/{slug}" for number, slug, _ in STEPS}
UNAVAILABLE = "unavailable"
PAYMENT_LABELS = {
    "none": N_("No plan chosen yet"),
    "pending": N_("Payment pending"),
    "trialing": N_("In the plan's trial: pay by its end"),
    "paid": N_("Paid"),
    "past_due": N_("Payment overdue"),
    "cancelled": N_("Subscription cancelled"),
    UNAVAILABLE: N_("Payment is not available yet: you can submit, and pay when it is."),
}
EVENT_LABELS = {
    "submitted": N_("Submitted for review"),
    "resubmitted": N_("Submitted again"),
    "approved": N_("Approved"),
    "rejected": N_("Not approved"),
    "changes_requested": N_("Changes requested"),
    "document_uploaded": N_("Document uploaded"),
    "payment_confirmed": N_("Payment confirmed"),
}


async def payment_state(tenant_id: int) -> str:
    """Billing's word on the tenant's payment, or "unavailable" when billing is absent."""
    try:
        billing = importlib.import_module("loyalchat.billing.service")
    except ImportError:
        return UNAVAILABLE
    state_of = getattr(billing, "payment_state", None)
    if state_of is None:
        return UNAVAILABLE
    try:
        return str(await state_of(tenant_id))
    except Exception:  # billing's failure must not take the application page down
        log.exception("onboarding_payment_state_failed", tenant=tenant_id)
        return UNAVAILABLE


def can_edit(request: Request) -> bool:
    """Owners and managers change the application while it is open (applying, rejected)."""
    principal = principal_of(request)
    tenant = principal.tenant
    return bool(
        tenant and principal.has_role(Role.manager) and tenant.status in applications.EDITABLE
    )


async def wizard_state(request: Request, current_step: int = 0) -> dict[str, Any]:
    """The context every wizard template gets (see onboarding/_state.html)."""
    principal = principal_of(request)
    tenant = principal.tenant
    assert tenant is not None
    application = await applications.get_application(tenant.id)
    missing = await applications.missing_steps(tenant.id)
    registration = await applications.current_documents(
        tenant.id, DocumentKind.business_registration.value
    )
    samples = await applications.current_documents(tenant.id, DocumentKind.receipt_sample.value)
    payment = await payment_state(tenant.id)
    done = {
        1: 1 not in missing,
        2: 2 not in missing,
        3: payment in ("paid", "trialing"),  # a trial lets the shop be approved
        4: 4 not in missing,
        5: bool(application and application.channels),
    }
    return {
        "status": tenant.status,
        "application": application,
        "missing": missing,
        "done": done,
        "steps": STEPS,
        "step_paths": STEP_PATHS,
        "current_step": current_step,
        "registration": registration[0] if registration else None,
        "samples": samples,
        "payment": payment,
        "payment_labels": PAYMENT_LABELS,
        "history": await applications.history(tenant.id),
        "event_labels": EVENT_LABELS,
        "editable": can_edit(request),
        "can_submit": can_edit(request) and not missing,
        "is_rejected": tenant.status == TenantStatus.rejected.value,
        "is_pending": tenant.status == TenantStatus.pending_review.value,
    }

"""The platform admin's side of onboarding: the review queue and the decisions on it.

:func:`approve`, :func:`reject` and :func:`request_changes` move a shop out of
``pending_review`` in one conditional status change (``tenants.service.set_status`` with
``only_from``), so two admins deciding at once cannot both win; the loser gets
:class:`NotPending`. Each decision is written on the application, in its history
(``service.record_event``) and in the audit log with who and why, and the shop's owners
get an e-mail. A rejected shop (for either reason) fixes its application in the wizard and
submits it again (``service.submit``: ``rejected`` -> ``pending_review``); the history
keeps every round.

The queue functions read every tenant's application: platform-admin work, so each query
sits inside ``cross_tenant()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from piccolo.query.functions.aggregate import Count, Min

from loyalchat.billing import service as billing
from loyalchat.bounds import InvalidCharacter, is_storable
from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.mail import send_mail
from loyalchat.onboarding import service
from loyalchat.onboarding.tables import (
    Application,
    ApplicationDocument,
    Decision,
    EventKind,
)
from loyalchat.receipts.samples import SampleRead, samples_of
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.scoping import scoped_select, scoped_update, unscoped
from loyalchat.tenants import accounts, audit
from loyalchat.tenants.service import StatusConflict, TenantInfo, get_tenant, set_status
from loyalchat.tenants.tables import Role, TenantStatus

log = structlog.get_logger(__name__)

MAX_REASON = 2000
# The tenant statuses the queue filters on (the wizard's ``applying`` shops are listed
# too, so an admin can see who is stuck before submitting).
QUEUE_STATUSES = (
    TenantStatus.pending_review.value,
    TenantStatus.rejected.value,
    TenantStatus.applying.value,
)
REGIONS = ("HK", "CN")
MAX_QUEUE = 500


class ReviewError(DomainError):
    """A decision the rules refuse; ``code`` says which rule."""


class NotPending(Conflict):
    """The shop is not waiting for review (or another admin decided it meanwhile)."""

    code = "application_not_pending"


class NotPaid(Conflict):
    """Approval needs the payment received, or the admin's explicit "without payment"."""

    code = "application_not_paid"


class ReasonRequired(ReviewError):
    """A rejection or a request for changes says what to fix."""

    code = "reason_required"
    status = 400


class ApplicationMissing(NotFound):
    code = "application_not_found"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision did: the new status, and whether the owners' e-mail went out."""

    tenant_id: int
    shop: str
    status: str
    decision: str
    mailed: int


# -- decisions --------------------------------------------------------------------------


async def approve(
    tenant_id: int, *, actor: Actor, note: str = "", without_payment: bool = False
) -> Outcome:
    """Open the shop: status ``active``, the history and the audit log say who approved it
    (and, when the payment was not received, that the admin chose to approve without it),
    and the owners get the welcome e-mail.

    Raises :class:`NotPaid` while ``billing.service.payment_state`` is neither ``paid`` nor
    ``trialing`` (a plan's trial, paid by transfer at its end), unless ``without_payment``;
    :class:`NotPending` when the shop is not waiting for review. A trial waiting for the
    approval starts with it.
    """
    note = _clean(note, required=False)
    await _pending_application(tenant_id)
    payment = await billing.payment_state(tenant_id)
    in_service = payment in billing.IN_SERVICE
    if not in_service and not without_payment:
        raise NotPaid(f"the payment is {payment!r}, not received", payment_state=payment)
    outcome = await _decide(
        tenant_id,
        actor=actor,
        decision=Decision.approved,
        target=TenantStatus.active,
        reason=note,
        details={"payment_state": payment, "without_payment": not in_service},
        template="application_approved",
    )
    await billing.start_trial_clock(tenant_id)
    return outcome


async def reject(tenant_id: int, *, actor: Actor, reason: str) -> Outcome:
    """Turn the application down with a reason the merchant reads (e-mail and console);
    the merchant may fix it and submit again."""
    return await _decide(
        tenant_id,
        actor=actor,
        decision=Decision.rejected,
        target=TenantStatus.rejected,
        reason=_clean(reason, required=True),
        details={},
        template="application_rejected",
    )


async def request_changes(tenant_id: int, *, actor: Actor, reason: str) -> Outcome:
    """Send the application back for changes (what to fix in ``reason``): the shop's status
    is ``rejected`` until it submits again, the decision says ``changes_requested``."""
    return await _decide(
        tenant_id,
        actor=actor,
        decision=Decision.changes_requested,
        target=TenantStatus.rejected,
        reason=_clean(reason, required=True),
        details={},
        template="application_changes_requested",
    )


def _clean(text: str, *, required: bool) -> str:
    """The reason as stored: trimmed, at most :data:`MAX_REASON` characters, line breaks
    kept; control characters (NUL...) refused rather than silently dropped."""
    text = (text or "").strip()[:MAX_REASON].strip()
    if not is_storable(text, multiline=True):
        raise InvalidCharacter("reason: control characters are not allowed", field="reason")
    if required and not text:
        raise ReasonRequired("say what the merchant should fix")
    return text


async def _pending_application(tenant_id: int) -> None:
    tenant = await get_tenant(tenant_id)
    if tenant is None:
        raise ApplicationMissing("no such shop")
    with tenant_context(tenant_id):
        if await service.get_application(tenant_id) is None:
            raise ApplicationMissing("the shop has no application")
    if tenant.status != TenantStatus.pending_review.value:
        raise NotPending(f"the shop is {tenant.status}, not waiting for review")


async def _decide(
    tenant_id: int,
    *,
    actor: Actor,
    decision: Decision,
    target: TenantStatus,
    reason: str,
    details: dict[str, Any],
    template: str,
) -> Outcome:
    await _pending_application(tenant_id)
    now = datetime.now(UTC)
    with tenant_context(tenant_id, actor):
        try:
            # The one step that decides: a second admin's identical click fails here.
            tenant = await set_status(
                tenant_id, target, reason, only_from={TenantStatus.pending_review}
            )
        except StatusConflict:
            raise NotPending("another decision was made on this application meanwhile") from None
        await scoped_update(
            Application,
            {
                Application.decision: decision.value,
                Application.decision_reason: reason,
                Application.decided_at: now,
                Application.updated_at: now,
            },
        )
        note = reason
        if details.get("without_payment"):
            note = f"[approved without payment: {details['payment_state']}] {reason}".strip()
        await service.record_event(tenant_id, EventKind(decision.value), actor.label, note)
        await audit.record(
            f"application.{decision.value}",
            f"tenant:{tenant_id}",
            before={"status": TenantStatus.pending_review.value},
            after={"status": target.value, "reason": reason, **details},
            tenant_id=tenant_id,
        )
        owners = [
            row["email"]
            for row in await accounts.staff_of_current_tenant()
            if row["role"] == Role.owner.value and row["email"]
        ]
    mailed = 0
    context = {"shop": tenant.display_name, "reason": reason}  # links: the templates' url()
    for email in owners:
        try:
            await send_mail(email, template, context, locale=tenant.locale, tenant_id=tenant_id)
        except Exception:  # the decision stands; the admin sees the count and can tell them
            log.exception("review_mail_failed", tenant=tenant_id, template=template)
        else:
            mailed += 1
    return Outcome(tenant_id, tenant.display_name, target.value, decision.value, mailed)


# -- the queue ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueRow:
    tenant_id: int
    slug: str
    shop: str
    status: str
    region: str
    legal_name: str
    registration_number: str
    submitted_at: datetime | None
    waiting_since: datetime
    decision: str

    def age(self, now: datetime) -> timedelta:
        return max(timedelta(0), now - self.waiting_since)


async def review_queue(
    *,
    status: str | None = TenantStatus.pending_review.value,
    region: str | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
) -> list[QueueRow]:
    """CROSS-TENANT: applications by shop status (None: every status of
    :data:`QUEUE_STATUSES`), region, and how long they have waited; longest wait first.

    A shop waits from its latest submission (from when it started, before any)."""
    now = now or datetime.now(UTC)
    statuses = [status] if status else list(QUEUE_STATUSES)
    with cross_tenant("platform admin: the application review queue"):
        table = unscoped(Application)
        query = table.select(
            table.tenant.id.as_alias("tenant_id"),
            table.tenant.slug.as_alias("slug"),
            table.tenant.display_name.as_alias("shop"),
            table.tenant.status.as_alias("status"),
            table.region,
            table.legal_name_zh,
            table.legal_name_en,
            table.registration_number,
            table.submitted_at,
            table.created_at,
            table.decision,
        ).where(table.tenant.status.is_in(statuses))
        if region:
            query = query.where(table.region == region)
        if older_than is not None:
            cutoff = now - older_than
            query = query.where(
                (table.submitted_at <= cutoff)
                | (table.submitted_at.is_null() & (table.created_at <= cutoff))
            )
        # Never submitted (NULL) sorts last: those shops are not waiting on us.
        rows = await query.order_by(table.submitted_at, table.created_at).limit(MAX_QUEUE)
    return [
        QueueRow(
            tenant_id=row["tenant_id"],
            slug=row["slug"],
            shop=row["shop"],
            status=row["status"],
            region=row["region"],
            legal_name=row["legal_name_zh"] or row["legal_name_en"],
            registration_number=row["registration_number"],
            submitted_at=row["submitted_at"],
            waiting_since=row["submitted_at"] or row["created_at"],
            decision=row["decision"],
        )
        for row in rows
    ]


async def queue_counts() -> dict[str, int]:
    """CROSS-TENANT: applications per shop status (:data:`QUEUE_STATUSES`)."""
    with cross_tenant("platform admin: application counts by status"):
        table = unscoped(Application)
        rows = await table.select(
            table.tenant.status.as_alias("status"), Count(table.id, alias="n")
        ).group_by(table.tenant.status)
    counts = dict.fromkeys(QUEUE_STATUSES, 0)
    counts.update({row["status"]: row["n"] for row in rows if row["status"] in counts})
    return counts


@dataclass(frozen=True, slots=True)
class Waiting:
    count: int
    oldest: datetime | None


async def waiting_for_review() -> Waiting:
    """CROSS-TENANT: how many shops wait for review, and since when the oldest waits."""
    with cross_tenant("platform admin: applications waiting for review"):
        table = unscoped(Application)
        row = await (
            table.select(Count(table.id, alias="n"), Min(table.submitted_at, alias="oldest"))
            .where(table.tenant.status == TenantStatus.pending_review.value)
            .first()
        )
    return Waiting(row["n"] if row else 0, _moment(row["oldest"]) if row else None)


def _moment(value: object) -> datetime | None:
    """An aggregate's timestamp: SQLite hands ``min()`` back as its stored text."""
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


# -- one application, as the reviewer reads it ----------------------------------------


@dataclass(frozen=True, slots=True)
class ApplicationFile:
    """Everything the detail page shows about one shop's application."""

    tenant: TenantInfo
    application: service.ApplicationInfo
    documents: list[dict[str, Any]]  # current ones first, then what they replaced
    events: list[service.EventInfo]  # oldest first
    payment_state: str
    payments: list[billing.PaymentInfo]  # newest first
    profile: ReceiptProfile
    samples: list[SampleRead]
    owners: list[str]


async def application_file(tenant_id: int) -> ApplicationFile:
    """One shop's application, documents, history, payment state and receipt samples
    (what the engine read off each), read in that shop's own scope."""
    tenant = await get_tenant(tenant_id)
    if tenant is None:
        raise ApplicationMissing("no such shop")
    with tenant_context(tenant_id):
        application = await service.get_application(tenant_id)
        if application is None:
            raise ApplicationMissing("the shop has no application")
        documents = await (
            scoped_select(ApplicationDocument)
            .output(load_json=True)
            .order_by(ApplicationDocument.id, ascending=False)
        )
        events = await service.history(tenant_id)
        rules = await get_receipt_settings()
        owners = [
            row["email"]
            for row in await accounts.staff_of_current_tenant()
            if row["role"] == Role.owner.value
        ]
    documents.sort(key=lambda doc: doc["replaced_at"] is not None)  # stable: newest first
    return ApplicationFile(
        tenant=tenant,
        application=application,
        documents=documents,
        events=events,
        payment_state=await billing.payment_state(tenant_id),
        payments=await billing.list_payments(tenant_id, limit=10),
        profile=rules.profile,
        samples=samples_of(rules.profile),
        owners=owners,
    )

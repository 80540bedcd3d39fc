"""Applications: read, fill in, add documents, submit; the history of each one.

The only writer of the onboarding tables besides ``onboarding.review`` (the platform
admin's decisions). Every function takes the tenant id and works on that tenant's rows
only: it runs with that tenant in context (the wizard's request), or inside
``cross_tenant()`` (the admin's review pages); with another tenant in context it refuses.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loyalchat.context import (
    NoTenantContext,
    cross_tenant_reason,
    current_actor,
    current_tenant_id,
    tenant_context,
)
from loyalchat.domain import Conflict, DomainError
from loyalchat.i18n import N_
from loyalchat.onboarding.tables import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DocumentKind,
    EventKind,
)
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update
from loyalchat.tenants import audit
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus

MAX_RECEIPT_SAMPLES = 5
# Statuses in which the merchant may still change the application.
EDITABLE = frozenset({TenantStatus.applying.value, TenantStatus.rejected.value})
DETAIL_FIELDS = (
    "legal_name_zh",
    "legal_name_en",
    "display_name_zh",
    "display_name_en",
    "region",
    "registration_number",
    "address",
    "phone",
    "industry",
    "timezone",
)


class IncompleteApplication(DomainError):
    """Submit before every required step is done; ``missing`` lists the steps."""

    code = "application_incomplete"


@dataclass(frozen=True, slots=True)
class ApplicationInfo:
    tenant_id: int
    legal_name_zh: str = ""
    legal_name_en: str = ""
    display_name_zh: str = ""
    display_name_en: str = ""
    region: str = "HK"
    registration_number: str = ""
    address: str = ""
    phone: str = ""
    industry: str = ""
    timezone: str = "Asia/Hong_Kong"
    pos_system: str = ""
    channels: list[str] = field(default_factory=list)
    step: int = 0
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    decision: str = ""
    decision_reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def details_done(self) -> bool:
        return bool(
            (self.legal_name_zh or self.legal_name_en)
            and self.registration_number
            and self.address
            and self.phone
        )


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    tenant_id: int
    kind: str
    media_key: str
    filename: str
    content_type: str
    size: int
    pages: int
    preview_key: str
    ocr_text: str
    ocr_name: str
    ocr_number: str
    cross_check: dict[str, Any]
    created_at: datetime
    replaced_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventInfo:
    id: int
    kind: str
    actor: str
    note: str
    created_at: datetime


@contextlib.contextmanager
def _scope(tenant_id: int) -> Iterator[None]:
    """Run as ``tenant_id``: the tenant in context already, or any under ``cross_tenant()``."""
    current = current_tenant_id()
    if current == tenant_id:
        yield
        return
    if current is not None and cross_tenant_reason() is None:
        raise PermissionError("onboarding: another tenant's application")
    if current is None and cross_tenant_reason() is None:
        raise NoTenantContext("onboarding: no tenant in context and not cross_tenant()")
    with tenant_context(tenant_id):
        yield


def _json(value: Any, empty: Any) -> Any:
    """A JSON column's value: Piccolo hands back the text unless asked to load it."""
    if isinstance(value, str):
        return json.loads(value) if value else empty
    return empty if value is None else value


def _application(row: dict) -> ApplicationInfo:
    values = {name: row[name] for name in ApplicationInfo.__dataclass_fields__ if name in row}
    values["tenant_id"] = row["tenant"]
    values["channels"] = list(_json(row.get("channels"), []))
    return ApplicationInfo(**values)


def _document(row: dict) -> DocumentInfo:
    return DocumentInfo(
        id=row["id"],
        tenant_id=row["tenant"],
        kind=row["kind"],
        media_key=row["media_key"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        pages=row["pages"],
        preview_key=row["preview_key"],
        ocr_text=row["ocr_text"],
        ocr_name=row["ocr_name"],
        ocr_number=row["ocr_number"],
        cross_check=dict(_json(row["cross_check"], {})),
        created_at=row["created_at"],
        replaced_at=row["replaced_at"],
    )


def _actor_label(actor: str | None) -> str:
    if actor:
        return actor[:254]
    who = current_actor()
    return (who.label or who.ref)[:254]


async def get_application(tenant_id: int) -> ApplicationInfo | None:
    """The tenant's application, or None before the merchant saved anything."""
    with _scope(tenant_id):
        row = await scoped_select(Application).first()
    return _application(row) if row else None


async def ensure_application(tenant_id: int) -> ApplicationInfo:
    """The tenant's application, made empty on first use (one per tenant: unique index)."""
    with _scope(tenant_id):
        row = await scoped_select(Application).first()
        if row is None:
            await scoped_insert(Application, new_row(Application)).on_conflict(action="DO NOTHING")
            row = await scoped_select(Application).first()
    return _application(row)


async def update_application(tenant_id: int, values: dict[str, Any]) -> ApplicationInfo:
    """Change fields of the application (already validated by the caller's form)."""
    allowed = set(DETAIL_FIELDS) | {"pos_system", "channels", "step"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not application fields: {sorted(unknown)}")
    await ensure_application(tenant_id)
    with _scope(tenant_id):
        changes = {getattr(Application, k): v for k, v in values.items() if k != "step"}
        changes[Application.updated_at] = datetime.now(UTC)
        await scoped_update(Application, changes)
        if "step" in values:
            # The furthest step reached stays: going back to step 1 does not undo step 4.
            await scoped_update(Application, {Application.step: values["step"]}).where(
                Application.step < values["step"]
            )
    application = await get_application(tenant_id)
    assert application is not None
    return application


async def record_event(tenant_id: int, kind: str, actor: str | None = None, note: str = "") -> int:
    """Append one entry to the application's history; returns its id."""
    with _scope(tenant_id):
        rows = await scoped_insert(
            ApplicationEvent,
            new_row(ApplicationEvent, kind=kind, actor=_actor_label(actor), note=note),
        ).returning(ApplicationEvent.id)
    return rows[0]["id"]


async def history(tenant_id: int) -> list[EventInfo]:
    """The application's events, oldest first."""
    with _scope(tenant_id):
        rows = await scoped_select(ApplicationEvent).order_by(ApplicationEvent.id)
    return [EventInfo(r["id"], r["kind"], r["actor"], r["note"], r["created_at"]) for r in rows]


async def current_documents(tenant_id: int, kind: str | None = None) -> list[DocumentInfo]:
    """Documents not replaced, oldest first; only those of ``kind`` when given."""
    with _scope(tenant_id):
        query = scoped_select(ApplicationDocument).where(ApplicationDocument.replaced_at.is_null())
        if kind is not None:
            query = query.where(ApplicationDocument.kind == kind)
        rows = await query.order_by(ApplicationDocument.id)
    return [_document(row) for row in rows]


async def get_document(tenant_id: int, document_id: int) -> DocumentInfo | None:
    """One document of this tenant (replaced or not); None for another tenant's id."""
    with _scope(tenant_id):
        row = (
            await scoped_select(ApplicationDocument)
            .where(ApplicationDocument.id == document_id)
            .first()
        )
    return _document(row) if row else None


async def document_has_key(tenant_id: int, key: str) -> bool:
    """Whether one of the tenant's documents (current or replaced) is or previews ``key``."""
    if not isinstance(key, str) or len(key) != 64:
        return False
    with _scope(tenant_id):
        row = (
            await scoped_select(ApplicationDocument, ApplicationDocument.id)
            .where(
                (ApplicationDocument.media_key == key) | (ApplicationDocument.preview_key == key)
            )
            .first()
        )
    return row is not None


async def add_document(
    tenant_id: int, kind: DocumentKind | str, *, actor: str | None = None, **values: Any
) -> DocumentInfo:
    """Store a checked upload's record. A business registration replaces the current one;
    receipt samples add up (at most :data:`MAX_RECEIPT_SAMPLES`)."""
    kind = DocumentKind(kind)
    now = datetime.now(UTC)
    with _scope(tenant_id):
        if kind is DocumentKind.receipt_sample:
            count = len(await current_documents(tenant_id, kind.value))
            if count >= MAX_RECEIPT_SAMPLES:
                raise Conflict(N_("Five receipt samples at most: remove one first."))
        else:
            await scoped_update(ApplicationDocument, {ApplicationDocument.replaced_at: now}).where(
                (ApplicationDocument.kind == kind.value) & ApplicationDocument.replaced_at.is_null()
            )
        rows = await scoped_insert(
            ApplicationDocument, new_row(ApplicationDocument, kind=kind.value, **values)
        ).returning(*ApplicationDocument.all_columns())
        document = _document(rows[0])
        await record_event(tenant_id, EventKind.document_uploaded.value, actor, kind.value)
    return document


async def set_cross_check(tenant_id: int, document_id: int, result: dict[str, str]) -> None:
    """The document's cross-check, worked out again (the owner corrected the details)."""
    with _scope(tenant_id):
        await scoped_update(
            ApplicationDocument, {ApplicationDocument.cross_check: json.dumps(result)}
        ).where(ApplicationDocument.id == document_id)


async def remove_document(tenant_id: int, document_id: int) -> bool:
    """Mark a document replaced (it stays in the history); False when there is none."""
    with _scope(tenant_id):
        rows = (
            await scoped_update(
                ApplicationDocument, {ApplicationDocument.replaced_at: datetime.now(UTC)}
            )
            .where(
                (ApplicationDocument.id == document_id) & ApplicationDocument.replaced_at.is_null()
            )
            .returning(ApplicationDocument.id)
        )
    return bool(rows)


async def missing_steps(tenant_id: int) -> list[int]:
    """Required wizard steps not done yet: 1 details, 2 registration, 4 receipt samples."""
    application = await get_application(tenant_id)
    missing = []
    if application is None or not application.details_done:
        missing.append(1)
    if not await current_documents(tenant_id, DocumentKind.business_registration.value):
        missing.append(2)
    samples = await current_documents(tenant_id, DocumentKind.receipt_sample.value)
    if not samples or application is None or not application.pos_system:
        missing.append(4)
    return missing


async def submit(tenant_id: int, *, actor: str | None = None, note: str = "") -> ApplicationInfo:
    """Send the application for review: tenant applying|rejected -> pending_review.

    One conditional status change decides (a double click submits once); the event says
    "resubmitted" when the application was decided before.
    """
    missing = await missing_steps(tenant_id)
    if missing:
        raise IncompleteApplication(N_("Some steps are not finished yet."), steps=missing)
    with _scope(tenant_id):
        try:
            await tenants.set_status(
                tenant_id,
                TenantStatus.pending_review,
                "application submitted",
                only_from={TenantStatus.applying, TenantStatus.rejected},
            )
        except tenants.StatusConflict:
            raise Conflict(N_("This application is not open for changes.")) from None
        earlier = (
            await scoped_select(ApplicationEvent, ApplicationEvent.id)
            .where(
                ApplicationEvent.kind.is_in(
                    [EventKind.submitted.value, EventKind.resubmitted.value]
                )
            )
            .first()
        )
        kind = EventKind.resubmitted if earlier else EventKind.submitted
        await scoped_update(
            Application,
            {
                Application.submitted_at: datetime.now(UTC),
                Application.updated_at: datetime.now(UTC),
                Application.decision: "",
            },
        )
        await record_event(tenant_id, kind.value, actor, note)
        await audit.record("application.submit", f"tenant:{tenant_id}", tenant_id=tenant_id)
    application = await get_application(tenant_id)
    assert application is not None
    return application

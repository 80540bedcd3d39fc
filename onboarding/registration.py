"""Step 2 of the application: the business registration document, checked, stored, read.

The upload is checked (``onboarding.documents``) before anything is stored, so a refused
file leaves nothing behind. Then the file and its first page's PNG go to the tenant's
media store, the OCR engine reads the page, and the record is added (replacing the
previous document, which stays in the history). What was read fills the application's
legal name and number when the merchant left them empty; otherwise it is cross-checked.
"""

from __future__ import annotations

import asyncio
import re

import pluggy

from loyalchat.media import store
from loyalchat.onboarding import documents, reading
from loyalchat.onboarding import service as applications
from loyalchat.onboarding.service import DocumentInfo
from loyalchat.onboarding.tables import DocumentKind

_HAN = re.compile(r"[\u3400-\u9fff]")


async def upload_registration(
    tenant_id: int,
    data: bytes,
    filename: str,
    *,
    pm: pluggy.PluginManager,
    actor: str | None = None,
) -> DocumentInfo:
    """Check, store and read one registration document; :class:`DocumentRejected` when
    the file is refused (nothing stored then)."""
    checked = await asyncio.to_thread(documents.check_upload, data)
    application = await applications.ensure_application(tenant_id)
    media_key = await store.save(data, kind="business_registration")
    preview_key = await store.save(checked.preview_png, kind="business_registration_preview")
    read = await reading.read_document(checked.preview_png, application.region, pm)
    names = [application.legal_name_zh, application.legal_name_en]
    result = reading.cross_check(read, names, application.registration_number)
    document = await applications.add_document(
        tenant_id,
        DocumentKind.business_registration,
        actor=actor,
        media_key=media_key,
        filename=documents.clean_filename(filename),
        content_type=checked.content_type,
        size=checked.size,
        pages=checked.pages,
        preview_key=preview_key,
        ocr_text=read.text,
        ocr_name=read.name,
        ocr_number=read.number,
        cross_check=result,
    )
    await _prefill(tenant_id, application, read)
    return document


async def recheck(tenant_id: int) -> None:
    """The current registration document's cross-check against the details as they are
    now: after the owner corrects a name or number, the reviewer sees the new result."""
    application = await applications.get_application(tenant_id)
    if application is None:
        return
    names = [application.legal_name_zh, application.legal_name_en]
    for document in await applications.current_documents(
        tenant_id, DocumentKind.business_registration
    ):
        read = reading.DocumentReading(
            text=document.ocr_text, name=document.ocr_name, number=document.ocr_number
        )
        result = reading.cross_check(read, names, application.registration_number)
        if result != document.cross_check:
            await applications.set_cross_check(tenant_id, document.id, result)


async def _prefill(
    tenant_id: int, application: applications.ApplicationInfo, read: reading.DocumentReading
) -> None:
    """Fill what the merchant left empty with what the engine read."""
    values: dict[str, str] = {}
    if read.number and not application.registration_number:
        values["registration_number"] = read.number
    if read.name:
        field = "legal_name_zh" if _HAN.search(read.name) else "legal_name_en"
        if not getattr(application, field):
            values[field] = read.name
    if values:
        await applications.update_application(tenant_id, values)

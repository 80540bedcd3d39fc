"""The wizard's uploads: the business registration document (step 2) and the sample
receipts with the POS system and the names the receipts print (step 4).

Step 2 checks the file by its content (``onboarding.documents``), stores it, reads it
with the shop's OCR engine and shows what was read beside what was typed. Step 4 reads
1-5 photos with ``receipts.samples.propose_profile``, keeps the proposal as the shop's
receipt profile (``receipts.settings``) and asks the merchant to confirm the names;
confirming saves them and the POS system. A refused upload stores nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.domain import DomainError
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common.display import error_message
from loyalchat.frontend.pages.onboarding import forms
from loyalchat.frontend.pages.onboarding.state import STEP_PATHS
from loyalchat.frontend.pages.onboarding.wizard import (
    SAVED,
    actor_label,
    page,
    require_open,
    tenant_id,
    translated,
)
from loyalchat.i18n import N_
from loyalchat.media import images
from loyalchat.onboarding import documents, registration
from loyalchat.onboarding import service as applications
from loyalchat.onboarding.tables import DocumentKind
from loyalchat.receipts import samples as receipt_samples
from loyalchat.receipts.settings import get_receipt_settings, save_receipt_settings
from loyalchat.tenants.access import ANY_STATUS
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.plugin_controllers import plugin_manager
from loyalchat.tenants.tables import Role

DOCUMENT_FIELD = "document"
PHOTOS_FIELD = "photos"
DOCUMENT_BODY = documents.MAX_BYTES + 1024 * 1024
PHOTOS_BODY = receipt_samples.MAX_SAMPLES * receipt_samples.MAX_SAMPLE_BYTES + 1024 * 1024
GENERIC_POS = "other"  # the application's word for the generic parser ("" in the profile)

NO_FILE = N_("Choose the file to upload.")
NO_PHOTO = N_("Choose or take at least one photo of a receipt.")
TOO_MANY = N_("At most %(limit)s photos at a time.")
BAD_PHOTO = N_("Photo %(number)s: %(problem)s")
UPLOADED = N_("Document uploaded. Check what was read below.")
NO_SAMPLES = N_("Upload the sample receipts first.")
POS_LABELS = {
    "": N_("Other / generic"),
    receipt_samples.HANDWRITTEN: N_("Handwritten receipt book"),
}


async def _files(request: Request, name: str, limit: int) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each file sent in ``name``; one byte past ``limit`` is read,
    enough to refuse a file as too large without reading all of it."""
    form = await request.form()
    found = []
    for part in form.getall(name) if name in form else []:
        if isinstance(part, UploadFile) and part.filename:
            found.append((part.filename, await part.read(limit + 1)))
    return found


def pos_choices(request: Request) -> dict[str, str]:
    found = receipt_samples.pos_systems(plugin_manager(request))
    return {name: POS_LABELS.get(name, label) for name, label in found.items()}


async def receipts_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    proposed: bool = False,
) -> Template:
    rules = await get_receipt_settings()
    application = await applications.get_application(tenant_id(request))
    pos = application.pos_system if application and application.pos_system else ""
    shown = form or {
        "names": "\n".join(rules.profile.merchant_names),
        "pos_system": "" if pos == GENERIC_POS else (pos or rules.profile.pos_system),
    }
    return await page(
        request,
        "receipts.html",
        4,
        status_code=status_code,
        form=shown,
        errors=errors or {},
        pos_systems=pos_choices(request),
        confirmed=bool(pos),
        proposed=proposed,
        max_samples=receipt_samples.MAX_SAMPLES,
        limit_mb=receipt_samples.MAX_SAMPLE_BYTES // (1024 * 1024),
    )


def _photo_problems(request: Request, exc: receipt_samples.SamplesRejected) -> str:
    files = exc.extra.get("files") or {}
    if not files:
        return i18n.gettext(request, TOO_MANY, limit=receipt_samples.MAX_SAMPLES)
    limit_mb = receipt_samples.MAX_SAMPLE_BYTES // (1024 * 1024)
    lines = []
    for n, reason in sorted(files.items()):
        message = images.MESSAGES.get(str(reason), images.MESSAGES["not_an_image"])
        problem = i18n.gettext(request, message, limit_mb=limit_mb)
        lines.append(i18n.gettext(request, BAD_PHOTO, number=int(n) + 1, problem=problem))
    return " ".join(lines)


class OnboardingUploadsController(Controller):
    path = "/onboarding"
    include_in_schema = False
    guards = (role_required(Role.cashier),)
    opt = ANY_STATUS

    @get("/registration")
    async def registration(self, request: Request) -> Template:
        return await page(request, "registration.html", 2, errors={})

    @post(
        "/registration",
        guards=[role_required(Role.manager)],
        status_code=303,
        request_max_body_size=DOCUMENT_BODY,
    )
    async def upload_registration(self, request: Request) -> Response[Any]:
        require_open(request)
        await ui.form_data(request)  # 400 for a body that is not a form
        files = await _files(request, DOCUMENT_FIELD, documents.MAX_BYTES)
        problem = ""
        if not files:
            problem = i18n.gettext(request, NO_FILE)
        else:
            filename, data = files[0]
            try:
                await registration.upload_registration(
                    tenant_id(request),
                    data,
                    filename,
                    pm=plugin_manager(request),
                    actor=actor_label(),
                )
            except documents.DocumentRejected as exc:
                problem = i18n.gettext(request, exc.message)
        if problem:
            return await page(
                request,
                "registration.html",
                2,
                status_code=HTTP_400_BAD_REQUEST,
                errors={DOCUMENT_FIELD: problem},
            )
        await applications.update_application(tenant_id(request), {"step": 2})
        ui.flash(request, UPLOADED, "success")
        return Redirect(STEP_PATHS[2], status_code=303)

    @get("/receipts")
    async def receipts(self, request: Request) -> Template:
        return await receipts_page(request)

    @post(
        "/receipts/samples",
        guards=[role_required(Role.manager)],
        status_code=200,
        request_max_body_size=PHOTOS_BODY,
    )
    async def read_samples(self, request: Request) -> Template:
        """Read the photos, keep the proposed profile and the samples; names to confirm."""
        require_open(request)
        form = await ui.form_data(request)
        pos = form.get("pos_system", "")
        if pos not in pos_choices(request):
            pos = ""
        photos = await _files(request, PHOTOS_FIELD, receipt_samples.MAX_SAMPLE_BYTES)
        problem = ""
        if not photos:
            problem = i18n.gettext(request, NO_PHOTO)
        elif len(photos) > receipt_samples.MAX_SAMPLES:
            problem = i18n.gettext(request, TOO_MANY, limit=receipt_samples.MAX_SAMPLES)
        else:
            rules = await get_receipt_settings()
            try:
                proposed, samples = await receipt_samples.propose_profile(
                    [data for _, data in photos],
                    pos,
                    base=rules.profile,
                    pm=plugin_manager(request),
                )
            except receipt_samples.SamplesRejected as exc:
                problem = _photo_problems(request, exc)
            except DomainError as exc:
                problem = error_message(request, exc)
            else:
                await save_receipt_settings(
                    replace(rules, profile=proposed), action="receipt_settings.set"
                )
                await _keep_samples(request, samples)
        if problem:
            return await receipts_page(
                request,
                errors={PHOTOS_FIELD: problem},
                status_code=HTTP_400_BAD_REQUEST,
            )
        return await receipts_page(request, proposed=True)

    @post("/receipts", guards=[role_required(Role.manager)], status_code=303)
    async def confirm_receipts(self, request: Request) -> Response[Any]:
        """The names the receipts print and the POS system, as the merchant confirms them."""
        require_open(request)
        form = await ui.form_data(request)
        pos = form.get("pos_system", "")
        errors: dict[str, str] = {}
        names: tuple[str, ...] = ()
        if pos not in pos_choices(request):
            errors["pos_system"] = i18n.gettext(request, forms.CHOOSE)
        try:
            names = forms.parse_names(form.get("names", ""))
        except forms.FormErrors as exc:
            errors.update(translated(request, exc.errors))
        current = applications.current_documents
        if not await current(tenant_id(request), DocumentKind.receipt_sample.value):
            errors[PHOTOS_FIELD] = i18n.gettext(request, NO_SAMPLES)
        if errors:
            return await receipts_page(
                request, errors=errors, form=form, status_code=HTTP_400_BAD_REQUEST
            )
        rules = await get_receipt_settings()
        profile = replace(rules.profile, merchant_names=names, pos_system=pos)
        await save_receipt_settings(replace(rules, profile=profile), action="receipt_settings.set")
        await applications.update_application(
            tenant_id(request), {"pos_system": pos or GENERIC_POS, "step": 4}
        )
        ui.flash(request, SAVED, "success")
        return Redirect(STEP_PATHS[5], status_code=303)


async def _keep_samples(request: Request, samples: list[receipt_samples.SampleRead]) -> None:
    """The new samples replace the earlier ones in the application (which keeps them all)."""
    tid = tenant_id(request)
    for old in await applications.current_documents(tid, DocumentKind.receipt_sample.value):
        await applications.remove_document(tid, old.id)
    for sample in samples:
        summary = "\n".join(
            f"{label}: {value}"
            for label, value in (
                ("merchant", sample.merchant),
                ("date", sample.date),
                ("total", f"{sample.currency} {sample.total}".strip()),
                ("total_label", sample.total_label),
            )
            if value
        )
        await applications.add_document(
            tid,
            DocumentKind.receipt_sample,
            actor=actor_label(),
            media_key=sample.key,
            filename="",
            content_type="image/jpeg",
            pages=1,
            preview_key=sample.ocr_key,
            ocr_text=summary,
            ocr_name=sample.merchant[:200],
            cross_check={},
        )

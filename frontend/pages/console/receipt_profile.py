"""The receipt profile page: sample receipts in, what the engine read, the profile to save.

Managers and owners upload 1-5 photos of the shop's receipts (or take them with the
phone's camera); ``receipts.samples.propose_profile`` reads them with the shop's OCR
engine, keeps them in the shop's media store and proposes a profile, which fills the form
(names as printed, branches, total labels, date order, POS system, currency, amount
range, QR prefix) beside the receipt settings; saving goes through
``receipts.settings.save_receipt_settings`` (validated, audited). A "test a receipt" box
runs the pipeline's own checks on one photo against the profile as typed, before saving.

Thin: the service reads, proposes and judges; ``receipt_profile_form`` turns fields into
settings and back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.domain import DomainError
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, error_message
from loyalchat.frontend.pages.console import receipt_profile_form as pf
from loyalchat.i18n import N_
from loyalchat.media import images
from loyalchat.receipts import samples as receipt_samples
from loyalchat.receipts.checks.texts import reason_text
from loyalchat.receipts.samples import SampleRead, SamplesRejected, TriedReceipt
from loyalchat.receipts.settings import ReceiptRules, get_receipt_settings, save_receipt_settings
from loyalchat.tenants.access import NO_WRITES
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.plugin_controllers import plugin_manager
from loyalchat.tenants.tables import Role

PATH = "/console/receipts/profile"
PHOTOS_FIELD = "photos"
TRY_FIELD = "try_photo"
# Five photos at the per-photo limit, and the form's text fields.
MAX_BODY_BYTES = receipt_samples.MAX_SAMPLES * receipt_samples.MAX_SAMPLE_BYTES + 1024 * 1024
LIMIT_MB = receipt_samples.MAX_SAMPLE_BYTES // (1024 * 1024)

NO_PHOTO = N_("Choose or take at least one photo of a receipt.")
TOO_MANY = N_("At most %(limit)s photos at a time.")
BAD_PHOTO = N_("Photo %(number)s: %(problem)s")
SAVED = N_("Receipt profile saved. New receipts are checked against it.")
POS_LABELS = {
    "": N_("Other / generic"),
    receipt_samples.HANDWRITTEN: N_("Handwritten receipt book"),
}
OUTCOMES = {
    "pass": N_("Passes"),
    "warn": N_("Sent to review"),
    "fail": N_("Rejected"),
}
CHECK_LABELS = {
    "merchant": N_("Receipt is from this shop"),
    "date": N_("Date within the window"),
    "amount": N_("Amount is plausible"),
    "screenshot": N_("Photo of a paper receipt"),
}
VERDICTS = {
    "credited": N_("Would be credited"),
    "needs_review": N_("Would go to staff review"),
    "rejected": N_("Would be rejected"),
}
# The service's field names at the form's fields.
SERVICE_FIELDS = {"amount_range": "amount_low", "profile": "names"}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _translated(request: Request, errors: Mapping[str, pf.Problem]) -> dict[str, str]:
    return {
        field: i18n.gettext(request, message, **params)
        for field, (message, params) in errors.items()
    }


async def _uploads(request: Request, name: str) -> list[bytes]:
    """The files sent in ``name`` (browsers send one empty part when none is chosen);
    one byte past the limit is read, enough to refuse a file as too large."""
    form = await request.form()
    found = []
    for part in form.getall(name) if name in form else []:
        if isinstance(part, UploadFile) and part.filename:
            found.append(await part.read(receipt_samples.MAX_SAMPLE_BYTES + 1))
    return found


def _photo_problems(request: Request, exc: SamplesRejected) -> str:
    """Why the photos were refused, one sentence per bad photo, in the request's language."""
    files = exc.extra.get("files") or {}
    if not files:
        return i18n.gettext(request, TOO_MANY, limit=receipt_samples.MAX_SAMPLES)
    lines = []
    for n, reason in sorted(files.items()):
        message = images.MESSAGES.get(str(reason), images.MESSAGES["not_an_image"])
        problem = i18n.gettext(request, message, limit_mb=LIMIT_MB)
        lines.append(i18n.gettext(request, BAD_PHOTO, number=int(n) + 1, problem=problem))
    return " ".join(lines)


def _pos_choices(request: Request) -> dict[str, str]:
    found = receipt_samples.pos_systems(plugin_manager(request))
    return {name: POS_LABELS.get(name, label) for name, label in found.items()}


async def _page(
    request: Request,
    *,
    form: dict[str, str],
    samples: Sequence[SampleRead],
    errors: dict[str, str] | None = None,
    proposed: bool = False,
    tried: TriedReceipt | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/receipt_profile/page.html",
        context=base_context(
            request,
            form=form,
            errors=errors or {},
            # The photo fields show their own problems beside them, not in the form's summary.
            form_errors={
                k: v for k, v in (errors or {}).items() if k not in (PHOTOS_FIELD, TRY_FIELD)
            },
            samples=samples,
            sample_json=pf.sample_json,
            proposed=proposed,
            tried=_tried_view(request, tried),
            pos_systems=_pos_choices(request),
            date_orders=pf.DATE_ORDERS,
            bounds=pf.BOUNDS,
            max_samples=receipt_samples.MAX_SAMPLES,
            limit_mb=LIMIT_MB,
        ),
        # htmx swaps only successful responses; the errors are on the page it gets.
        status_code=200 if _is_htmx(request) else status_code,
    )


def _tried_view(request: Request, tried: TriedReceipt | None) -> dict[str, Any] | None:
    if tried is None:
        return None
    locale = i18n.locale_of(request)
    checks = [
        {
            "check": r.check,
            "label": CHECK_LABELS.get(r.check, r.check),
            "outcome": r.outcome.value,
            "outcome_label": OUTCOMES[r.outcome.value],
            "reason": reason_text(r, locale) if r.reason else "",
            "detail": r.detail,
        }
        for r in tried.summary.results
    ]
    verdict = tried.summary.verdict.value
    return {
        "read": tried.read,
        "verdict": verdict,
        "verdict_label": VERDICTS[verdict],
        "checks": checks,
    }


async def _current() -> tuple[ReceiptRules, list[SampleRead]]:
    rules = await get_receipt_settings()
    return rules, receipt_samples.samples_of(rules.profile)


class ReceiptProfileController(Controller):
    path = PATH
    include_in_schema = False
    guards = (role_required(Role.manager),)

    @get("/")
    async def show(self, request: Request) -> Template:
        rules, samples = await _current()
        return await _page(request, form=pf.rules_form(rules), samples=samples)

    @post("/samples", status_code=200, request_max_body_size=MAX_BODY_BYTES)
    async def read_samples(self, request: Request) -> Template:
        """Read the photos and show the proposal; nothing is saved until the form is."""
        form = await ui.form_data(request)
        rules, samples = await _current()
        shown = {**pf.rules_form(rules), "pos_system": form.get("pos_system", "")}
        photos = await _uploads(request, PHOTOS_FIELD)
        problem = ""
        if not photos:
            problem = i18n.gettext(request, NO_PHOTO)
        elif len(photos) > receipt_samples.MAX_SAMPLES:
            problem = i18n.gettext(request, TOO_MANY, limit=receipt_samples.MAX_SAMPLES)
        if shown["pos_system"] not in _pos_choices(request):
            shown["pos_system"] = rules.profile.pos_system
        if not problem:
            try:
                proposed, samples = await receipt_samples.propose_profile(
                    photos, shown["pos_system"], base=rules.profile, pm=plugin_manager(request)
                )
            except SamplesRejected as exc:
                problem = _photo_problems(request, exc)
            except DomainError as exc:
                problem = error_message(request, exc)
            else:
                proposal = pf.rules_form(ReceiptRules(profile=proposed))
                keep = {k: shown[k] for k in shown if k not in pf.PROFILE_FIELDS}
                shown = {**proposal, **keep, "pos_system": shown["pos_system"]}
        if problem:
            return await _page(
                request,
                form=shown,
                samples=samples,
                errors={PHOTOS_FIELD: problem},
                status_code=HTTP_400_BAD_REQUEST,
            )
        return await _page(request, form=shown, samples=samples, proposed=True)

    @post("/", status_code=303)
    async def save(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        lists = await ff.form_lists(request)
        current, _ = await _current()
        samples = await pf.own_samples(pf.posted_samples(lists))
        try:
            rules = pf.rules_from_form(form, current, _pos_choices(request), samples)
            await save_receipt_settings(rules, action="receipt_settings.set")
        except pf.ProfileFormErrors as exc:
            errors = _translated(request, exc.errors)
        except DomainError as exc:
            field = str(exc.extra.get("field", ""))
            errors = {SERVICE_FIELDS.get(field, field) or "form": error_message(request, exc)}
        else:
            ui.flash(request, SAVED, "success")
            return Redirect(PATH, status_code=303)
        return await _page(
            request, form=form, samples=samples, errors=errors, status_code=HTTP_400_BAD_REQUEST
        )

    @post("/try", status_code=200, opt=NO_WRITES, request_max_body_size=MAX_BODY_BYTES)
    async def try_receipt(self, request: Request) -> Template:
        """One photo judged against the profile as typed on the form (nothing is saved)."""
        form = await ui.form_data(request)
        lists = await ff.form_lists(request)
        current, saved_samples = await _current()
        samples = await pf.own_samples(pf.posted_samples(lists)) if form else saved_samples
        errors: dict[str, str] = {}
        tried = None
        rules = current
        if form.get("names") is not None:  # the profile as typed; else the saved one
            try:
                rules = pf.rules_from_form(form, current, _pos_choices(request), samples)
            except pf.ProfileFormErrors as exc:
                errors = _translated(request, exc.errors)
        photos = await _uploads(request, TRY_FIELD)
        if not photos:
            errors[TRY_FIELD] = i18n.gettext(request, NO_PHOTO)
        elif not errors:
            try:
                tried = await receipt_samples.try_receipt(
                    photos[0], rules, pm=plugin_manager(request)
                )
            except SamplesRejected as exc:
                errors[TRY_FIELD] = _photo_problems(request, exc)
            except DomainError as exc:
                errors[TRY_FIELD] = error_message(request, exc)
        shown = form if form.get("names") is not None else pf.rules_form(current)
        if _is_htmx(request):
            return Template(
                "console/receipt_profile/_tried.html",
                context=base_context(request, tried=_tried_view(request, tried), errors=errors),
            )
        return await _page(
            request,
            form=shown,
            samples=samples,
            errors=errors,
            tried=tried,
            status_code=HTTP_400_BAD_REQUEST if errors else 200,
        )

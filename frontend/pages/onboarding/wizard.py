"""The merchant's application wizard at ``/onboarding``: overview, details, plan,
channels, submit, and the documents' files.

Staff of the shop reach it whatever the shop's status (``ANY_STATUS``): cashiers read,
owners and managers change it while the shop is applying or was rejected; once it is
submitted (pending review) or decided (active, suspended) every change is refused (409).
Uploads (steps 2 and 4) are in ``uploads.py``. Thin: the services decide.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.context import current_actor
from loyalchat.domain import Conflict
from loyalchat.extensions.channels import get_channels
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context
from loyalchat.frontend.pages.onboarding import forms
from loyalchat.frontend.pages.onboarding.state import STEP_PATHS, can_edit, wizard_state
from loyalchat.i18n import N_
from loyalchat.media.responses import media_response
from loyalchat.media.store import MediaNotFound
from loyalchat.onboarding import checklist, registration
from loyalchat.onboarding import service as applications
from loyalchat.tenants.access import ANY_STATUS
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.plugin_controllers import plugin_manager
from loyalchat.tenants.tables import Role

PATH = "/onboarding"
SAVED = N_("Saved.")
SUBMITTED = N_("Your application was sent for review. We will e-mail you the decision.")
CLOSED = N_("This application is not open for changes.")
INCOMPLETE = N_("Some steps are not finished yet.")


def tenant_id(request: Request) -> int:
    tenant = principal_of(request).tenant
    assert tenant is not None  # the role guard saw to it
    return tenant.id


def actor_label() -> str:
    actor = current_actor()
    return actor.label or actor.ref


def require_open(request: Request) -> None:
    """Refuse a change unless the application is open (applying or rejected)."""
    if not can_edit(request):
        raise Conflict(CLOSED)


def translated(request: Request, errors: dict[str, forms.Problem]) -> dict[str, str]:
    return {k: i18n.gettext(request, m, **p) for k, (m, p) in errors.items()}


async def page(
    request: Request, template: str, step: int = 0, status_code: int = 200, **context: Any
) -> Template:
    state = await wizard_state(request, step)
    return Template(
        f"onboarding/{template}",
        context=base_context(request, **state, **context),
        status_code=status_code,
    )


async def details_page(
    request: Request, form: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Template:
    return await page(
        request,
        "details.html",
        1,
        status_code=status_code,
        form=form,
        errors=errors,
        regions=forms.REGIONS,
        industries=forms.INDUSTRIES,
        timezones=forms.TIMEZONES,
    )


def installed_channels(request: Request) -> dict[str, str]:
    return {kind: adapter.label for kind, adapter in get_channels(plugin_manager(request)).items()}


class OnboardingController(Controller):
    path = PATH
    include_in_schema = False
    guards = (role_required(Role.cashier),)
    opt = ANY_STATUS

    @get("/")
    async def overview(self, request: Request) -> Template:
        return await page(request, "overview.html")

    @get("/details")
    async def details(self, request: Request) -> Template:
        application = await applications.get_application(tenant_id(request))
        return await details_page(request, forms.details_form(application), {})

    @post("/details", guards=[role_required(Role.manager)], status_code=303)
    async def save_details(self, request: Request) -> Response[Any]:
        require_open(request)
        form = await ui.form_data(request)
        try:
            values = forms.parse_details(form)
        except forms.FormErrors as exc:
            errors = translated(request, exc.errors)
            return await details_page(request, form, errors, HTTP_400_BAD_REQUEST)
        await applications.update_application(tenant_id(request), {**values, "step": 1})
        await registration.recheck(tenant_id(request))
        ui.flash(request, SAVED, "success")
        return Redirect(STEP_PATHS[2], status_code=303)

    @get("/plan")
    async def plan(self, request: Request) -> Template:
        return await page(request, "plan.html", 3)

    @get("/channels")
    async def channels(self, request: Request) -> Template:
        application = await applications.get_application(tenant_id(request))
        chosen = application.channels if application else []
        return await page(
            request,
            "channels.html",
            5,
            installed=installed_channels(request),
            chosen=chosen,
            errors={},
        )

    @post("/channels", guards=[role_required(Role.manager)], status_code=303)
    async def save_channels(self, request: Request) -> Response[Any]:
        require_open(request)
        await ui.form_data(request)  # 400 for a body that is not a form
        lists = await ff.form_lists(request)
        installed = installed_channels(request)
        chosen = [str(v) for v in lists.get("channels", [])]
        try:
            kinds = forms.parse_channels(chosen, installed)
        except forms.FormErrors as exc:
            return await page(
                request,
                "channels.html",
                5,
                status_code=HTTP_400_BAD_REQUEST,
                installed=installed,
                chosen=[],
                errors=translated(request, exc.errors),
            )
        await applications.update_application(tenant_id(request), {"channels": kinds, "step": 5})
        ui.flash(request, SAVED, "success")
        return Redirect(PATH, status_code=303)

    @post("/submit", guards=[role_required(Role.manager)], status_code=303)
    async def submit(self, request: Request) -> Response[Any]:
        require_open(request)
        form = await ui.form_data(request)
        note = (form.get("note") or "").strip()[:1000]
        try:
            await applications.submit(tenant_id(request), actor=actor_label(), note=note)
        except applications.IncompleteApplication:
            ui.flash(request, INCOMPLETE, "error")
            return Redirect(PATH, status_code=303)
        ui.flash(request, SUBMITTED, "success")
        return Redirect(PATH, status_code=303)

    # The isolation harness plants a picture in another shop's store for "media" routes.
    @get("/media/{key:str}", opt={"tenant_object": "media"})
    async def document_media(self, request: Request, key: FromPath[str]) -> Response[bytes]:
        """A file of this shop's application (a document as uploaded, or its preview):
        only keys its application documents name, from this shop's own store."""
        if not await applications.document_has_key(tenant_id(request), key):
            raise NotFoundException()
        try:
            return await media_response(request, key, headers={"Content-Disposition": "inline"})
        except MediaNotFound:
            raise NotFoundException() from None


# Not ANY_STATUS: the checklist belongs to an open shop (a suspended one cannot write).
@post("/onboarding/checklist/qr-kit", guards=[role_required(Role.cashier)], status_code=303)
async def mark_qr_kit_printed(request: Request) -> Redirect:
    """The console home's "I printed it" for the QR kit step of the checklist."""
    await ui.form_data(request)  # 400 for a body that is not a form
    await applications.record_event(tenant_id(request), checklist.QR_KIT_PRINTED, actor_label())
    ui.flash(request, SAVED, "success")
    return Redirect("/console", status_code=303)

"""The console's QR kit: the shop's join QR codes as print files, and its branches.

Thin: the links, the files and the branches are :mod:`loyalchat.qrkit`. Every member of
staff (cashiers too: they reprint the stickers) sees the page, its previews and downloads;
managers add, rename and remove branches. A suspended shop reads and downloads, changes
nothing (the status guard refuses its POSTs). A branch is named by code in the query
(``?branch=central``): another shop's code, or an unknown one, is 404. Only channels the
shop has turned on are in the kit.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.bounds import PathId
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.extensions.channels import ChannelAdapter, get_channels
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import localized
from loyalchat.i18n import N_
from loyalchat.qrkit import branches, kit
from loyalchat.qrkit.branches import Branch
from loyalchat.qrkit.fonts import FontMissing
from loyalchat.tenants import audit
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.plugin_controllers import known_plugin, plugin_manager
from loyalchat.tenants.tables import Role

STAFF = (role_required(Role.cashier),)
MANAGER = [role_required(Role.manager)]
QR_BRANCH = {"tenant_object": "qr_branch"}

FILE_TITLES = {
    "counter-a5": N_("Counter display, A5 (PDF)"),
    "counter-a6": N_("Counter display, A6 (PDF)"),
    "stickers-a4": N_("Sticker sheet, A4 (PDF)"),
    "receipt-58": N_("Receipt printer, 58 mm (PNG)"),
    "receipt-80": N_("Receipt printer, 80 mm (PNG)"),
}
FILE_HINTS = {
    "counter-a5": N_("A stand-up card for the counter: one page per channel."),
    "counter-a6": N_("A stand-up card for the counter: one page per channel."),
    "stickers-a4": N_(
        "21 stickers (63.5 x 38.1 mm labels) for receipt books: one sheet per channel."
    ),
    "receipt-58": N_("384 dots wide, black and white: add it to the receipt footer in your POS."),
    "receipt-80": N_("576 dots wide, black and white: add it to the receipt footer in your POS."),
}
CODE_PROBLEM = N_("1-16 lower-case letters, digits or dashes, e.g. central.")
CODE_TAKEN = N_("You already have a branch with this code.")
NAME_PROBLEM = N_("Give the branch a name (at most 60 characters).")
TOO_MANY = N_("A shop has at most 50 branches. Remove one first.")
NO_FONT = N_("The server has no Chinese font to print with. Ask support to install one.")


async def connected_channels(request: Request) -> list[ChannelAdapter]:
    """The channels the platform offers the shop and the shop has turned on."""
    pm = plugin_manager(request)
    channels = get_channels(pm)
    found = []
    for kind in channels:
        try:
            plugin = await known_plugin(pm, channels.owner(kind))
        except NotFoundException:
            continue
        if (await ps.get_plugin_state(plugin, pm)).enabled:
            found.append(channels[kind])
    return found


async def _branch(code: str) -> Branch | None:
    """The shop's branch ``code`` ("" for none); 404 for a code the shop does not have."""
    if not code:
        return None
    found = await branches.get_branch(code)
    if found is None:
        raise NotFoundException()
    return found


def _can_edit(request: Request) -> bool:
    principal = principal_of(request)
    return principal.has_role(Role.manager) and not principal.read_only


async def _page(
    request: Request,
    branch_code: str = "",
    channel: str = "",
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    tenant = principal_of(request).tenant
    assert tenant is not None  # the guard asked for a shop role
    branch = await _branch(branch_code)
    adapters = await connected_channels(request)
    links = await kit.channel_links(tenant, adapters, branch)
    if channel not in {item.kind for item in links}:
        channel = ""  # a channel that is off (a link from its page): the whole kit
    shown = [item for item in links if item.link and (not channel or item.kind == channel)]
    all_branches = await branches.list_branches()
    return Template(
        "console/qrkit/page.html",
        context={
            "links": links,
            "printable": bool(shown),
            "branch": branch,
            "channel": channel,
            "branches": all_branches,
            "branch_forms": {
                item.id: localized.form_fields("name", item.name) for item in all_branches
            },
            "files": [(name, FILE_TITLES[name], FILE_HINTS[name]) for name in kit.FILES],
            "query": {"branch": branch.code if branch else "", "channel": channel},
            "can_edit": _can_edit(request),
            "can_see_channels": principal_of(request).has_role(Role.manager),
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


async def _content(request: Request, branch_code: str, channel: str) -> Any:
    tenant = principal_of(request).tenant
    assert tenant is not None
    branch = await _branch(branch_code)
    adapters = [a for a in await connected_channels(request) if not channel or a.kind == channel]
    if channel and not adapters:
        raise NotFoundException()
    content = kit.content_of(tenant, await kit.channel_links(tenant, adapters, branch), branch)
    if not content.qrs:
        raise NotFoundException("no channel with a join link")
    return content


def _named(file: str) -> kit.KitFile:
    if file not in kit.FILES:
        raise NotFoundException()
    return kit.FILES[file]


async def _kit_file(
    request: Request, file: str, branch: str, channel: str, *, preview: bool
) -> Response[bytes]:
    """The file ``file`` for the branch and channel asked for, as a download, or a PNG of
    its first page (``preview``); 503 in plain words when the server lacks the fonts."""
    named = _named(file)
    content = await _content(request, branch, channel)
    make = kit.make_preview if preview else kit.make_file
    try:
        data = await make(content, named.name)
    except FontMissing as exc:
        return Response(str(exc).encode(), status_code=503, media_type="text/plain")
    if preview:
        return _file_response(request, data, "image/png", "", attachment=False)
    tenant = principal_of(request).tenant
    assert tenant is not None
    parts = [tenant.slug, named.name, branch, channel]
    filename = "-".join(part for part in parts if part) + "." + named.extension
    if not principal_of(request).read_only:
        # What the console home's checklist ticks "print the QR kit" by.
        await audit.record("qrkit.download", f"qrkit:{named.name}", after={"branch": branch})
    return _file_response(request, data, named.media_type, filename, attachment=True)


def _problems(request: Request, exc: DomainError) -> dict[str, str]:
    if isinstance(exc, Conflict):
        return {"branch": i18n.gettext(request, CODE_TAKEN)}
    if exc.code == "invalid_code":
        return {"branch": i18n.gettext(request, CODE_PROBLEM)}
    if exc.code == "too_many":
        return {"form": i18n.gettext(request, TOO_MANY)}
    return {"name": i18n.gettext(request, NAME_PROBLEM)}


class QrKitController(Controller):
    path = "/console/qr-kit"
    include_in_schema = False
    guards = STAFF

    @get("/")
    async def show(
        self, request: Request, branch: FromQuery[str] = "", channel: FromQuery[str] = ""
    ) -> Template:
        """The kit: each channel's join link, a preview and a download of each file."""
        return await _page(request, branch, channel)

    @get("/file")
    async def download(
        self,
        request: Request,
        file: FromQuery[str] = "",
        branch: FromQuery[str] = "",
        channel: FromQuery[str] = "",
    ) -> Response[bytes]:
        """One print file, made on request (cached per process, with an ETag)."""
        return await _kit_file(request, file, branch, channel, preview=False)

    @get("/preview")
    async def preview(
        self,
        request: Request,
        file: FromQuery[str] = "",
        branch: FromQuery[str] = "",
        channel: FromQuery[str] = "",
    ) -> Response[bytes]:
        """A PNG of the file's first page, for the page's previews."""
        return await _kit_file(request, file, branch, channel, preview=True)

    @post("/branches", guards=MANAGER, status_code=303)
    async def add_branch(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        code = form.get("branch", "").strip().lower()[:64]
        name = localized.form_value(form, "name")
        try:
            added = await branches.add_branch(code, name)
        except DomainError as exc:
            status = HTTP_409_CONFLICT if isinstance(exc, Conflict) else HTTP_400_BAD_REQUEST
            return await _page(
                request, form=form, errors=_problems(request, exc), status_code=status
            )
        ui.flash(request, N_("Branch %(code)s added."), "success", code=added.code)
        return Redirect(f"/console/qr-kit?branch={added.code}#branches", status_code=303)

    @post("/branches/{branch_id:int}", guards=MANAGER, opt=QR_BRANCH, status_code=303)
    async def rename_branch(self, request: Request, branch_id: PathId) -> Response[Any]:
        try:  # another shop's branch is 404 before its form is read
            await branches.branch_by_id(branch_id)
        except NotFound:
            raise NotFoundException() from None
        form = await ui.form_data(request)
        try:
            renamed = await branches.rename_branch(branch_id, localized.form_value(form, "name"))
        except NotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await _page(
                request, errors=_problems(request, exc), status_code=HTTP_400_BAD_REQUEST
            )
        ui.flash(request, N_("Branch %(code)s saved."), "success", code=renamed.code)
        return Redirect("/console/qr-kit#branches", status_code=303)

    @post("/branches/{branch_id:int}/delete", guards=MANAGER, opt=QR_BRANCH, status_code=303)
    async def remove_branch(self, request: Request, branch_id: PathId) -> Response[Any]:
        try:
            await branches.remove_branch(branch_id)
        except NotFound:
            raise NotFoundException() from None
        ui.flash(
            request, N_("Branch removed. Its printed QR codes still let people join."), "success"
        )
        return Redirect("/console/qr-kit#branches", status_code=303)


def _file_response(
    request: Request, data: bytes, media_type: str, filename: str, *, attachment: bool
) -> Response[bytes]:
    tag = kit.etag(data)
    # Private: another shop's staff behind the same proxy must never get this shop's kit.
    headers = {"etag": tag, "cache-control": "private, max-age=300"}
    if attachment:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    if request.headers.get("if-none-match") == tag:
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(data, media_type=media_type, headers=headers)

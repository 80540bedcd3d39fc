"""The console's Channels page: connect the shop's chat channels and hand out their QR.

One card per channel adapter the platform offers the shop (WhatsApp, WeChat, web chat and
any third party's), each with its own page: on/off and the connect form (the adapter's
``config_fields`` through the Plugins page's settings machinery: secrets encrypted at
rest and never shown back), the webhook URL to paste into the provider's console, a
health line, a test message, the join QR kit and, for WeChat, the custom menu
(:mod:`.channels_kit`).

Roles follow the Plugins page: managers see it all and send test messages; only the
owner changes settings, turns a channel on or off and pushes the WeChat menu. A suspended
shop is read-only. A channel is addressed by kind: unknown or withdrawn kinds are 404.
Saving WhatsApp or WeChat settings claims the account (``phone_number_id``, the original
id) for the shop in the same transaction: an account another shop holds refuses the
whole form and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import db, i18n
from loyalchat.bounds import is_storable
from loyalchat.conversations import service, staff, state
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.channels import ChannelAdapter, ChannelError, get_channels
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.console import channels_kit as kit
from loyalchat.frontend.pages.console.plugins import OTHER_PROBLEM, PROBLEMS, REQUIRED_TO_ENABLE
from loyalchat.i18n import N_
from loyalchat.languages import LOCALES
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.plugin_controllers import PLUGIN, known_plugin, plugin_manager
from loyalchat.tenants.tables import Role

MANAGER = (role_required(Role.manager),)
OWNER = [role_required(Role.owner)]
# The settings field naming the provider account a channel's webhooks are routed by.
ACCOUNT_FIELDS = {"whatsapp": "phone_number_id", "wechat": "original_id"}
NO_WEBHOOK = frozenset({"webchat"})  # its own page posts to the webhook route
TEST_TEXT_MAX = 1000
SETTING_MAX = 4096  # longer than any token, key or id a provider hands out
RECENT = 30

ACCOUNT_TAKEN = {
    "whatsapp": N_("This WhatsApp number is connected to another shop. Ask support to release it."),
    "wechat": N_("This official account is connected to another shop. Ask support to release it."),
}
CHOOSE_PERSON = N_("Choose who gets the test message.")
NOT_THIS_CHANNEL = N_("This person is not on this channel any more. Reload the page.")
WINDOW_CLOSED = N_(
    "This person last wrote more than %(hours)s hours ago: the channel only carries an "
    "approved template now. Ask them to send a message first."
)
WINDOW_CLOSED_NO_TEMPLATES = N_(
    "This person last wrote more than %(hours)s hours ago, and this channel has no message "
    "templates: it carries nothing until they write again."
)
TEST_TEXT = N_("This is a test message from %(shop)s.")
ENTER_TEXT = N_("Write the message.")
TEXT_TOO_LONG = N_("At most 1000 characters.")
MENU_REFUSED = N_("WeChat refused the menu: %(detail)s")


def _kinds(request: Request) -> Any:
    return get_channels(plugin_manager(request))


async def _channel(request: Request, kind: str) -> tuple[ChannelAdapter, str]:
    """The adapter of ``kind`` and its plugin, when the platform offers it; else 404."""
    channels = _kinds(request)
    if kind not in channels:
        raise NotFoundException()
    return channels[kind], await known_plugin(plugin_manager(request), channels.owner(kind))


def _can_edit(request: Request) -> bool:
    principal = principal_of(request)
    return principal.has_role(Role.owner) and not principal.read_only


def _can_send(request: Request) -> bool:
    principal = principal_of(request)
    return principal.has_role(Role.manager) and not principal.read_only


async def _summary(request: Request, kind: str, adapter: ChannelAdapter, plugin: str) -> dict:
    return {
        "kind": kind,
        "label": adapter.label,
        "state": await ps.get_plugin_state(plugin, plugin_manager(request)),
        "health": await service.channel_health(kind),
    }


async def _detail(
    request: Request,
    kind: str,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    test: dict[str, str] | None = None,
    test_errors: dict[str, str] | None = None,
    menu: dict[str, str] | None = None,
    menu_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    adapter, plugin = await _channel(request, kind)
    tenant = principal_of(request).tenant
    assert tenant is not None  # the guard asked for a shop role
    context: dict[str, Any] = {
        "channel": await _summary(request, kind, adapter, plugin),
        "form": form or {},
        "errors": errors or {},
        "can_edit": _can_edit(request),
        "can_send": _can_send(request),
        "webhook": "" if kind in NO_WEBHOOK else service.webhook_url(kind, tenant.slug),
        "window_hours": staff.window_hours(kind, adapter),
        "people": await service.conversations_page(channel=kind, limit=RECENT),
        "test": test
        or {
            "token": ff.new_token(),
            "text": i18n.gettext(request, TEST_TEXT, shop=tenant.display_name),
        },
        "test_errors": test_errors or {},
        "menu": None,
        "menu_errors": menu_errors or {},
        "languages": LOCALES,
    }
    if kind == kit.MENU_CHANNEL:
        if menu is None:
            titles, locale = await kit.last_pushed()
            menu = kit.menu_form(titles, locale or tenant.locale)
        context["menu"] = menu
    return Template("console/channels/detail.html", context=context, status_code=status_code)


class ChannelsController(Controller):
    path = "/console/channels"
    include_in_schema = False
    guards = MANAGER

    @get("/")
    async def list_channels(self, request: Request) -> Template:
        cards = []
        for kind in _kinds(request):
            try:
                adapter, plugin = await _channel(request, kind)
            except NotFoundException:
                continue  # not offered to this shop
            cards.append(await _summary(request, kind, adapter, plugin))
        return Template("console/channels/list.html", context={"cards": cards})

    @get("/{kind:str}", opt=PLUGIN)
    async def show(self, request: Request, kind: FromPath[str]) -> Template:
        return await _detail(request, kind)

    @post("/{kind:str}/enabled", guards=OWNER, opt=PLUGIN, status_code=303)
    async def set_enabled(self, request: Request, kind: FromPath[str]) -> Response[Any]:
        adapter, plugin = await _channel(request, kind)
        form = await ui.form_data(request)
        enabled = form.get("enabled") == "1"
        try:
            await ps.set_enabled(plugin, enabled, plugin_manager(request))
        except ps.PluginSettingsError as exc:
            errors = {name: i18n.gettext(request, REQUIRED_TO_ENABLE) for name in exc.errors}
            return await _detail(request, kind, errors=errors, status_code=HTTP_400_BAD_REQUEST)
        message = N_("%(plugin)s is on.") if enabled else N_("%(plugin)s is off.")
        ui.flash(request, message, "success", plugin=i18n.gettext(request, adapter.label))
        return Redirect(
            ui.safe_next(form.get("next"), f"/console/channels/{kind}"), status_code=303
        )

    @post("/{kind:str}/settings", guards=OWNER, opt=PLUGIN, status_code=303)
    async def save_settings(self, request: Request, kind: FromPath[str]) -> Response[Any]:
        adapter, plugin = await _channel(request, kind)
        pm = plugin_manager(request)
        fields = (await ps.get_plugin_state(plugin, pm)).fields
        form = await ui.form_data(request)
        values = {item.name: form.get(item.name, "") for item in fields}
        account_field = ACCOUNT_FIELDS.get(kind, "")
        errors = {  # what the database cannot keep (a NUL) or no provider id is this long
            name: i18n.gettext(request, OTHER_PROBLEM)
            for name, value in values.items()
            if len(value) > SETTING_MAX or not is_storable(value)
        }
        taken = False
        if not errors:
            try:
                async with db.write_transaction():  # the settings and the account, or neither
                    await ps.update_settings(plugin, values, pm)
                    if account_field:
                        config = await ps.runtime_settings(plugin, pm)
                        await service.sync_channel_account(kind, config.get(account_field, ""))
            except ps.PluginSettingsError as exc:
                errors = {
                    name: i18n.gettext(request, PROBLEMS.get(problem, OTHER_PROBLEM))
                    for name, problem in exc.errors.items()
                }
            except service.ChannelAccountTaken:
                errors, taken = {account_field: i18n.gettext(request, ACCOUNT_TAKEN[kind])}, True
            except DomainError:
                errors = {account_field: i18n.gettext(request, OTHER_PROBLEM)}
        if errors:
            echo = {item.name: values[item.name] for item in fields if not item.secret}
            status = HTTP_409_CONFLICT if taken else HTTP_400_BAD_REQUEST
            return await _detail(request, kind, form=echo, errors=errors, status_code=status)
        ui.flash(
            request,
            N_("Settings for %(plugin)s saved."),
            "success",
            plugin=i18n.gettext(request, adapter.label),
        )
        return Redirect(f"/console/channels/{kind}", status_code=303)

    @post("/{kind:str}/test", opt=PLUGIN, status_code=303)
    async def send_test(self, request: Request, kind: FromPath[str]) -> Response[Any]:
        """A test message to someone who wrote to this channel, queued like any reply."""
        await _channel(request, kind)
        form = await ui.form_data(request)
        text = form.get("text", "").strip()
        echo = {
            "token": form.get("token", ""),
            "text": text,
            "conversation": form.get("conversation", ""),
        }
        errors: dict[str, str] = {}
        try:
            token = ff.token(form)
        except ff.FieldError as exc:
            errors["form"], token = i18n.gettext(request, exc.message), ""
        conversation_id = _whole(form.get("conversation", ""))
        if conversation_id is None:
            errors["conversation"] = i18n.gettext(request, CHOOSE_PERSON)
        if not text:
            errors["text"] = i18n.gettext(request, ENTER_TEXT)
        elif len(text) > TEST_TEXT_MAX:
            errors["text"] = i18n.gettext(request, TEXT_TOO_LONG)
        elif not is_storable(text, multiline=True):
            errors["text"] = i18n.gettext(request, OTHER_PROBLEM)
        if not errors and conversation_id is not None:
            errors = await _queue_test(request, kind, conversation_id, text, token)
        if errors:
            status = HTTP_409_CONFLICT if "window" in errors else HTTP_400_BAD_REQUEST
            errors = {("conversation" if k == "window" else k): v for k, v in errors.items()}
            return await _detail(request, kind, test=echo, test_errors=errors, status_code=status)
        ui.flash(
            request, N_("Test message queued: its state shows in the conversation."), "success"
        )
        return Redirect(f"/console/channels/{kind}#test", status_code=303)

    @get("/{kind:str}/join", opt=PLUGIN)
    async def join(self, request: Request, kind: FromPath[str]) -> Template:
        """The join QR kit: the link the store QR encodes, its QR code, the poster."""
        adapter, plugin = await _channel(request, kind)
        tenant = principal_of(request).tenant
        assert tenant is not None
        return Template(
            "console/channels/join.html",
            context={
                "channel": await _summary(request, kind, adapter, plugin),
                "kit": await kit.join_kit(adapter, tenant),
                "languages": LOCALES,
            },
        )

    @get("/{kind:str}/qr.svg", opt=PLUGIN)
    async def qr_svg(self, request: Request, kind: FromPath[str]) -> Response[str]:
        """The join QR code as an SVG file to download (for a print shop)."""
        adapter, _plugin = await _channel(request, kind)
        tenant = principal_of(request).tenant
        assert tenant is not None
        found = await kit.join_kit(adapter, tenant)
        if not found.svg:
            raise NotFoundException(found.error)
        return Response(
            found.svg,
            media_type="image/svg+xml",
            headers={
                "content-disposition": f'attachment; filename="join-{kind}-{tenant.slug}.svg"',
                "cache-control": "no-store",
            },
        )

    @get("/{kind:str}/poster", opt=PLUGIN)
    async def poster(
        self, request: Request, kind: FromPath[str], locale: FromQuery[str] = ""
    ) -> Template:
        """A printable A6 poster: the shop's name, the QR code, how to join, in the shop's
        languages (its own first) or in one (``?locale=``)."""
        adapter, _plugin = await _channel(request, kind)
        tenant = principal_of(request).tenant
        assert tenant is not None
        found = await kit.join_kit(adapter, tenant)
        return Template(
            "console/channels/poster.html",
            context={
                "kind": kind,
                "label": adapter.label,
                "kit": found,
                "shop": tenant.display_name,
                "texts": kit.poster_texts(kind, kit.poster_locales(tenant.locale, locale)),
            },
        )

    @post("/{kind:str}/menu", guards=OWNER, opt=PLUGIN, status_code=303)
    async def push_menu(self, request: Request, kind: FromPath[str]) -> Response[Any]:
        """Push the custom menu's three buttons to the shop's WeChat account."""
        await _channel(request, kind)
        if kind != kit.MENU_CHANNEL:
            raise NotFoundException()
        form = await ui.form_data(request)
        titles, problems = kit.read_menu(form)
        locale = form.get("locale", "")
        errors = {
            name: i18n.gettext(request, message, **variables)
            for name, (message, variables) in problems.items()
        }
        if locale not in LOCALES:
            errors["locale"] = i18n.gettext(request, PROBLEMS["required"])
        if not errors:
            try:
                await kit.push_menu(titles, locale)
            except ChannelError as exc:
                errors["form"] = i18n.gettext(request, MENU_REFUSED, detail=str(exc))
        if errors:
            echo = {
                **kit.menu_form(titles, locale),
                **{k: v for k, v in form.items() if k.endswith("_was")},
            }
            return await _detail(
                request, kind, menu=echo, menu_errors=errors, status_code=HTTP_400_BAD_REQUEST
            )
        ui.flash(
            request, N_("The menu is on WeChat: followers see it within a few minutes."), "success"
        )
        return Redirect(f"/console/channels/{kind}#menu", status_code=303)


def _whole(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


async def _queue_test(
    request: Request, kind: str, conversation_id: int, text: str, token: str
) -> dict[str, str]:
    """Queue the test message; the problems by field ("window": outside the window)."""
    try:
        conversation = await state.get_conversation(conversation_id)
    except NotFound:
        return {"conversation": i18n.gettext(request, NOT_THIS_CHANNEL)}
    if conversation.channel != kind:
        return {"conversation": i18n.gettext(request, NOT_THIS_CHANNEL)}
    principal = principal_of(request)
    try:
        await service.queue_reply(
            conversation_id, text, key=f"test:{token}", sent_by=principal.actor.ref
        )
    except staff.WindowClosed as exc:
        hours = exc.extra.get("hours", "")
        hours_text = f"{hours:g}" if isinstance(hours, int | float) else str(hours)
        adapter = _kinds(request).get(kind)
        closed = WINDOW_CLOSED if staff.offers_templates(adapter) else WINDOW_CLOSED_NO_TEMPLATES
        return {"window": i18n.gettext(request, closed, hours=hours_text)}
    except NotFound:
        return {"conversation": i18n.gettext(request, NOT_THIS_CHANNEL)}
    return {}

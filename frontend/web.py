"""The HTML side of the app: the template engine, page controllers and static files.

``loyalchat.app.create_app()`` passes :func:`template_config` to Litestar and adds
:func:`route_handlers`. Plugins that ship pages add their template folders with
``template_config(extra_dirs=[...])`` or, once the engine exists, :func:`add_template_dirs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from loyalchat import i18n, texts
from loyalchat.frontend import ui
from loyalchat.tenants.tables import Role

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"

# Third-party browser assets, served straight from node_modules (installed with
# ``npm ci`` in frontend/): URL prefix -> folder inside node_modules. Only what we use.
VENDOR_ASSETS = {
    "/static/vendor/htmx": "htmx.org/dist",
    # QR scanning in the console (BarcodeDetector ponyfill) and the WebAssembly it loads.
    "/static/vendor/barcode-detector": "barcode-detector/dist/iife",
    "/static/vendor/zxing-wasm": "zxing-wasm/dist/reader",
    # The admin's business registration viewer: build/ (library and worker), cmaps/ and
    # standard_fonts/ (Chinese PDFs without embedded fonts), wasm/ (image decoders).
    "/static/vendor/pdfjs": "pdfjs-dist",
}


def make_environment(extra_dirs: Iterable[Path | str] = ()) -> Environment:
    """The Jinja environment: our templates first, then plugins' folders, i18n per request."""
    search_path = [str(TEMPLATES), *(str(path) for path in extra_dirs)]
    env = Environment(
        loader=FileSystemLoader(search_path),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=pass_context(_gettext),
        ngettext=pass_context(_ngettext),
        pgettext=pass_context(_pgettext),
        npgettext=pass_context(_npgettext),
        newstyle=True,
    )
    env.globals.update(
        tr=pass_context(_gettext),  # a dynamic string: translated, never %-formatted
        current_locale=pass_context(_current_locale),
        get_flashes=pass_context(_get_flashes),
        principal=pass_context(_principal),
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        ROLE_LABELS=ui.ROLE_LABELS,
        STATUS_LABELS=ui.STATUS_LABELS,
        Role=Role,
    )
    env.filters["datetime"] = pass_context(_datetime_filter)
    env.filters["in_script"] = pass_context(_in_script_filter)
    return env


def template_config(extra_dirs: Iterable[Path | str] = ()) -> TemplateConfig:
    """Litestar's template config: Jinja, autoescaped, translated per request."""
    engine = JinjaTemplateEngine.from_environment(make_environment(extra_dirs))
    return TemplateConfig(instance=engine)


def add_template_dirs(config: TemplateConfig, dirs: Iterable[Path | str]) -> None:
    """Append plugin template folders to an existing config (searched after ours)."""
    loader = config.engine_instance.engine.loader
    assert isinstance(loader, FileSystemLoader)
    for folder in dirs:
        if str(folder) not in loader.searchpath:
            loader.searchpath.append(str(folder))


def plugin_static_routers(folders: Mapping[str, Path]) -> list[Any]:
    """``/static/plugins/<name>/`` for each plugin that ships a ``static`` folder."""
    return [
        create_static_files_router(
            path=f"/static/plugins/{name}",
            directories=[folder],
            name=f"plugin-static-{name}",
            include_in_schema=False,
        )
        for name, folder in sorted(folders.items())
    ]


def static_routers() -> list[Any]:
    """``/static`` from frontend/static, plus each npm package's files we serve."""
    routers = [
        create_static_files_router(
            path=prefix,
            directories=[NODE_MODULES / folder],
            name=f"vendor-{folder.split('/')[0]}",
            include_in_schema=False,
        )
        for prefix, folder in VENDOR_ASSETS.items()
    ]
    routers.append(
        create_static_files_router(
            path="/static", directories=[STATIC], name="static", include_in_schema=False
        )
    )
    return routers


def route_handlers() -> list[Any]:
    """Every page controller and static router, for ``Litestar(route_handlers=...)``."""
    from loyalchat.frontend.pages.admin.applications import ApplicationsController
    from loyalchat.frontend.pages.admin.home import AdminController
    from loyalchat.frontend.pages.admin.outbox import AdminOutboxController
    from loyalchat.frontend.pages.admin.payments import AdminPaymentsController
    from loyalchat.frontend.pages.admin.plans import AdminPlansController
    from loyalchat.frontend.pages.admin.plugins import AdminPluginsController
    from loyalchat.frontend.pages.common.auth import AuthController, set_language
    from loyalchat.frontend.pages.console.api_keys import ApiKeysController
    from loyalchat.frontend.pages.console.auto_replies import AutoRepliesController
    from loyalchat.frontend.pages.console.billing import BillingController
    from loyalchat.frontend.pages.console.channels import ChannelsController
    from loyalchat.frontend.pages.console.conversations import ConversationsController
    from loyalchat.frontend.pages.console.coupons import CouponsController
    from loyalchat.frontend.pages.console.dashboard import DashboardController
    from loyalchat.frontend.pages.console.home import ConsoleController
    from loyalchat.frontend.pages.console.media import console_media
    from loyalchat.frontend.pages.console.member_settings import MemberSettingsController
    from loyalchat.frontend.pages.console.members import MembersController
    from loyalchat.frontend.pages.console.plugins import PluginsController
    from loyalchat.frontend.pages.console.qrkit import QrKitController
    from loyalchat.frontend.pages.console.receipt_profile import ReceiptProfileController
    from loyalchat.frontend.pages.console.receipts import ReceiptsController
    from loyalchat.frontend.pages.console.rewards import RewardsController
    from loyalchat.frontend.pages.console.rules import RulesController
    from loyalchat.frontend.pages.console.staff import StaffController
    from loyalchat.frontend.pages.onboarding.uploads import OnboardingUploadsController
    from loyalchat.frontend.pages.onboarding.wizard import (
        OnboardingController,
        mark_qr_kit_printed,
    )
    from loyalchat.frontend.pages.signup.invite import InviteController
    from loyalchat.frontend.pages.signup.password import PasswordController
    from loyalchat.frontend.pages.signup.signup import SignupController
    from loyalchat.frontend.pages.wallet.controller import WalletController

    return [
        AuthController,
        set_language,
        ConsoleController,
        ApiKeysController,
        PluginsController,
        ChannelsController,
        QrKitController,
        AdminController,
        AdminPluginsController,
        AdminPlansController,
        AdminPaymentsController,
        BillingController,
        ApplicationsController,
        AutoRepliesController,
        ConversationsController,
        CouponsController,
        DashboardController,
        console_media,
        MemberSettingsController,
        MembersController,
        ReceiptsController,
        ReceiptProfileController,
        RewardsController,
        RulesController,
        OnboardingController,
        OnboardingUploadsController,
        mark_qr_kit_printed,
        WalletController,
        SignupController,
        PasswordController,
        InviteController,
        StaffController,
        AdminOutboxController,
        *static_routers(),
    ]


# -- Jinja's gettext: the catalogue of the template's ``request`` (loyalchat.i18n) -----------


def _translations(context: Mapping[str, Any]) -> Any:
    return i18n.translations(i18n.locale_of(context.get("request")))


def _gettext(context: Mapping[str, Any], message: str) -> str:
    return _translations(context).gettext(message)


def _ngettext(context: Mapping[str, Any], singular: str, plural: str, n: int) -> str:
    return _translations(context).ngettext(singular, plural, n)


def _pgettext(context: Mapping[str, Any], ctx: str, message: str) -> str:
    return _translations(context).pgettext(ctx, message)


def _npgettext(context: Mapping[str, Any], ctx: str, singular: str, plural: str, n: int) -> str:
    return _translations(context).npgettext(ctx, singular, plural, n)


# -- template globals --------------------------------------------------------------------


def _current_locale(context: Mapping[str, Any]) -> str:
    return i18n.locale_of(context.get("request"))


def _get_flashes(context: Mapping[str, Any]) -> list[dict[str, str]]:
    request = context.get("request")
    return ui.pop_flashes(request) if request is not None else []


def _principal(context: Mapping[str, Any]) -> Any:
    from loyalchat.tenants.auth import ANONYMOUS, principal_of

    request = context.get("request")
    return principal_of(request) if request is not None else ANONYMOUS


def _in_script_filter(context: Mapping[str, Any], value: Any) -> str:
    """A name typed once (a shop's) in the reader's Chinese script."""
    return texts.in_script(str(value or ""), i18n.locale_of(context.get("request")))


def _datetime_filter(context: Mapping[str, Any], value: Any) -> str:
    request = context.get("request")
    tenant = _principal(context).tenant
    return i18n.format_datetime(
        value, i18n.locale_of(request), tenant.timezone if tenant else "Asia/Hong_Kong"
    )

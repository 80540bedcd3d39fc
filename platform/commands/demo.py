"""``loyalchat demo``: an active demo tenant with an owner, a platform admin and an API key.

Idempotent: the credentials are kept in ``<var_dir>/demo.json`` (mode 0600) and printed
again on every run. Without that file (a new machine, or it was deleted) the passwords
are reset and a fresh API key replaces the old demo key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from loyalchat import db
from loyalchat.billing.demo import ensure_demo_plans
from loyalchat.commands.demo_channels import ensure_demo_channels
from loyalchat.commands.demo_history import ensure_demo_history
from loyalchat.commands.demo_loyalty import ensure_demo_programme
from loyalchat.commands.demo_receipts import ensure_demo_receipts
from loyalchat.context import Actor, tenant_context
from loyalchat.log import configure_logging
from loyalchat.mail.outbox import outbox_dir
from loyalchat.settings import get_settings
from loyalchat.tenants import accounts, apikeys
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import Role, TenantStatus

DEMO_SLUG = "demo-cafe"
DEMO_NAME = "Demo Café 示範咖啡"
OWNER_EMAIL = "owner@demo.loyalchat.test"
ADMIN_EMAIL = "admin@demo.loyalchat.test"
KEY_NAME = "demo key"


def _credentials_file() -> Path:
    return get_settings().var_dir / "demo.json"


def _saved_credentials(path: Path) -> dict[str, Any]:
    """What an earlier run kept in ``demo.json``; nothing (new passwords) when it is gone
    or unreadable, which is said on stderr rather than raised."""
    if not path.exists():
        return {}
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        saved, why = None, str(exc)
    else:
        why = "not a JSON object"
    if isinstance(saved, dict):
        return saved
    click.echo(
        f"{_shown(path)} is unreadable ({why}): the demo accounts get new passwords "
        "and a new API key.",
        err=True,
    )
    return {}


async def ensure_demo(*, with_history: bool = False) -> dict[str, Any]:
    """Create or repair the demo data; return the credentials.

    ``with_history``: also the month of chats and receipts (:mod:`.demo_history`, seeded
    once; it reads 15 photos with the OCR engine). ``loyalchat demo`` asks for it; the
    tests that only need the programme and the channels leave it out.
    """
    path = _credentials_file()
    saved = _saved_credentials(path)
    owner_password = saved.get("owner_password") or secrets.token_urlsafe(12)
    admin_password = saved.get("admin_password") or secrets.token_urlsafe(12)

    tenant = await tenants.get_tenant_by_slug(DEMO_SLUG)
    if tenant is None:
        tenant = await tenants.create_tenant(
            DEMO_SLUG,
            DEMO_NAME,
            legal_name="Demo Café Limited",
            status=TenantStatus.active,
            locale="zh-Hant",
        )
    elif tenant.status != TenantStatus.active.value:
        tenant = await tenants.set_status(tenant.id, TenantStatus.active, "demo")

    owner = await _ensure_user(OWNER_EMAIL, owner_password, "Demo Owner", admin=False)
    await _ensure_user(ADMIN_EMAIL, admin_password, "Platform Admin", admin=True)
    await ensure_demo_plans()  # what a shop signing up may choose (billing)

    with tenant_context(tenant.id, Actor("system", label="loyalchat demo")):
        if await accounts.role_in(owner.id, tenant.id) != Role.owner:
            await accounts.grant_role(owner.id, Role.owner)
        api_key = saved.get("api_key")
        if not api_key or await apikeys.authenticate(api_key) is None:
            for row in await apikeys.list_keys():
                if row["name"] == KEY_NAME and row["revoked_at"] is None:
                    await apikeys.revoke_key(row["id"])
            api_key = (await apikeys.create_key(KEY_NAME, Role.manager, owner.id)).key
        await ensure_demo_programme()
        channels = await ensure_demo_channels(DEMO_SLUG)
        await ensure_demo_receipts()
        if with_history:
            await ensure_demo_history()  # chats and receipts of the last month, once

    credentials: dict[str, Any] = {
        "tenant": DEMO_SLUG,
        "tenant_name": DEMO_NAME,
        "api_key": api_key,
        "owner_email": OWNER_EMAIL,
        "owner_password": owner_password,
        "admin_email": ADMIN_EMAIL,
        "admin_password": admin_password,
        "url": get_settings().public_base_url,
        "channels": channels,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    return credentials


async def _ensure_user(email: str, password: str, name: str, *, admin: bool) -> accounts.StaffInfo:
    user = await accounts.get_user_by_email(email)
    if user is None:
        return await accounts.create_staff_user(
            email, password, display_name=name, is_platform_admin=admin
        )
    if await accounts.check_password(email, password) is None:
        await accounts.set_password(user.id, password)
    if admin and not user.is_platform_admin:
        await accounts.set_platform_admin(user.id, True)
    return user


DEMO_MEMBER = "M000001"  # has purchases and a redemption (demo_loyalty)


async def _run(*, with_wallet: bool = False) -> tuple[dict[str, Any], str | None]:
    async with db.connected():
        credentials = await ensure_demo(with_history=True)
        if not with_wallet:
            return credentials, None
        from loyalchat.members import links

        # Not in the credentials (nor demo.json): the link expires, the JSON stays the same.
        return credentials, await links.wallet_url(DEMO_MEMBER, DEMO_SLUG)


def _shown(path: Path) -> Path:
    """``path`` from the current folder when it lies under it (``var/...``), else in full."""
    with contextlib.suppress(ValueError):
        return path.resolve().relative_to(Path.cwd())
    return path.resolve()


def _mail_lines(base: str) -> list[str]:
    """Where the mails of the sign-up step go: the outbox folder, or the SMTP server."""
    settings = get_settings()
    if settings.smtp_url:
        return ["     Mails go out through the SMTP server of LOYALCHAT_SMTP_URL."]
    return [
        "     Mail stays on this machine (LOYALCHAT_SMTP_URL is not set): each mail, the",
        "     sign-up's e-mail verification link included, is a file in",
        f"     {_shown(outbox_dir(settings))}/ (Admin also reads them at {base}/admin/outbox).",
    ]


def _next_steps(credentials: dict[str, Any], wallet_url: str) -> list[str]:
    """What a newcomer does once the server is up: one step per login, the wallet, the
    web chat, and a second shop signing up (and where its mails go)."""
    base = credentials["url"].rstrip("/")
    loyalchat = ".venv/bin/loyalchat" if Path(".venv/bin/loyalchat").exists() else "loyalchat"
    hours = max(1, get_settings().wallet_link_max_age // 3600)
    saved = _shown(_credentials_file())
    return [
        "Next, once the server below is up:",
        f"  1. The shop's console: open {base}/login and sign in as Owner",
        "     (members, points, rewards, coupon checks, dashboard).",
        f"  2. A member's wallet, what the customer sees (member {DEMO_MEMBER}; this link works"
        f" for {hours} hours):",
        f"     {wallet_url}",
        f"     A fresh link: {loyalchat} wallet-link {DEMO_MEMBER} --tenant {credentials['tenant']}",
        "  3. The platform admin: sign in as Admin on the same page; it lands on",
        f"     {base}/admin (approve and suspend shops, plugins, health). It runs the",
        "     platform, not a shop, so the shop console (/console) answers it with 403.",
        "  4. The shop's web chat, what a customer without WhatsApp or WeChat uses (say",
        "     JOIN, then 積分 / points, rewards, my coupons):",
        f"     {credentials['channels']['webchat']['url']}",
        "     WhatsApp and WeChat are connected with made-up accounts: their webhook URLs and",
        f"     secrets are in `{loyalchat} demo --json` (channels).",
        f"  5. A second shop signs up at {base}/signup, as a merchant would, and sends its",
        f"     application; Admin reviews applications at {base}/admin/applications",
        f"     (and confirms bank transfers at {base}/admin/payments).",
        *_mail_lines(base),
        f"The credentials are kept in {saved}.",
    ]


@contextlib.contextmanager
def _warnings_only() -> Iterator[None]:
    """Log warnings and errors only while the demo seeds: its domain events and saved
    pictures (INFO) would bury the credentials. A DEBUG level asked for is kept."""
    settings = get_settings()
    if getattr(logging, settings.log_level.upper(), logging.INFO) <= logging.DEBUG:
        yield
        return
    root = logging.getLogger()
    was = root.level
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    root.setLevel(max(was, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(was)
        configure_logging(settings)


@click.group("demo", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object and nothing else.")
@click.pass_context
def demo_command(ctx: click.Context, as_json: bool) -> None:
    """Create (idempotently) the demo tenant, its owner, a platform admin and an API key,
    with a month of history; ``demo receipt`` draws a photo of one of its receipts."""
    if ctx.invoked_subcommand is not None:
        return
    with _warnings_only():
        credentials, wallet_url = asyncio.run(_run(with_wallet=not as_json))
    if as_json:
        click.echo(json.dumps(credentials, ensure_ascii=False))
        return
    click.echo(f"Demo tenant  {credentials['tenant_name']} ({credentials['tenant']})")
    click.echo(f"Console      {credentials['url']}/login")
    click.echo(f"Owner        {credentials['owner_email']}  /  {credentials['owner_password']}")
    click.echo(f"Admin        {credentials['admin_email']}  /  {credentials['admin_password']}")
    click.echo(f"API key      {credentials['api_key']}  (role manager)")
    click.echo()
    for line in _next_steps(credentials, wallet_url or ""):
        click.echo(line)


@demo_command.command("receipt")
@click.option("--total", default="123.40", show_default=True, help="The total printed (HK$).")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date printed (default: today in Hong Kong).",
)
@click.option(
    "--shop",
    type=click.Choice(["demo", "other"]),
    default="demo",
    show_default=True,
    help="other: another shop's receipt, which the demo refuses.",
)
@click.option(
    "--unpaid",
    is_flag=True,
    help="A one-line bill, no payment line: the bot asks to confirm the total.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Another seed, another photo.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="JPEG file."
)
def demo_receipt_command(
    total: str, on: Any, shop: str, unpaid: bool, seed: int, out: Path
) -> None:
    """Draw a photo of a Demo Café receipt (JPEG) to send to the demo shop's chats."""
    from datetime import datetime
    from decimal import Decimal, InvalidOperation
    from zoneinfo import ZoneInfo

    from loyalchat.commands.demo_receipts import DEMO_PROFILE
    from loyalchat.tools.demo_receipt import draw_demo_receipt

    try:
        amount = Decimal(total)
    except InvalidOperation:
        raise click.BadParameter(f"not an amount: {total!r}", param_hint="--total") from None
    if not amount.is_finite() or not Decimal("0.01") <= amount <= Decimal("1000000"):
        raise click.BadParameter("an amount from 0.01 to 1000000", param_hint="--total")
    day = on.date() if on else datetime.now(ZoneInfo(DEMO_PROFILE.timezone)).date()
    data = draw_demo_receipt(amount, day, shop=shop, paid=not unpaid, photo_seed=seed)
    out.write_bytes(data)
    click.echo(f"{out}: {shop} receipt, HK${amount:,.2f}, {day:%Y-%m-%d}, {len(data):,} bytes")


__all__ = ["demo_command", "ensure_demo"]

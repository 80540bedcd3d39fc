"""``loyalchat migrate`` and ``loyalchat createadmin``."""

from __future__ import annotations

import asyncio

import click

from loyalchat import db
from loyalchat.settings import get_settings
from loyalchat.tenants import accounts


@click.command("migrate")
def migrate_command() -> None:
    """Apply every pending migration (core and plugins) to the configured database."""
    settings = get_settings()

    async def run() -> None:
        async with db.connected(settings):
            await db.migrate()

    asyncio.run(run())
    click.echo(f"Database is up to date ({settings.database_kind}).")


@click.command("createadmin")
@click.option("--email", prompt=True, help="E-mail address to sign in with.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="LOYALCHAT_ADMIN_PASSWORD",
    help="Password (or LOYALCHAT_ADMIN_PASSWORD); prompted when omitted.",
)
def createadmin_command(email: str, password: str) -> None:
    """Create a platform administrator, or promote and reset an existing account."""

    async def run() -> str:
        async with db.connected():
            user = await accounts.get_user_by_email(email)
            if user is None:
                await accounts.create_staff_user(email, password, is_platform_admin=True)
                return "created"
            await accounts.set_password(user.id, password)
            await accounts.set_platform_admin(user.id, True)
            return "updated"

    try:
        outcome = asyncio.run(run())
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Platform admin {email.strip().lower()} {outcome}.")

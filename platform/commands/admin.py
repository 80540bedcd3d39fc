"""``loyalchat migrate`` and ``loyalchat createadmin``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
from piccolo.apps.migrations.tables import Migration

from loyalchat import db
from loyalchat.settings import Settings, get_settings
from loyalchat.tenants import accounts


@click.command("migrate")
def migrate_command() -> None:
    """Apply every pending migration (core and plugins) to the configured database."""
    settings = get_settings()
    sqlite_file = _sqlite_file(settings.resolved_database_url)
    created = sqlite_file is not None and not sqlite_file.exists()

    async def run() -> tuple[int | None, int]:
        async with db.connected(settings):
            before = await _applied()
            await db.migrate()
            return before, await _applied() or 0

    before, after = asyncio.run(run())
    click.echo(_outcome(created, before, after, _where(settings)))


async def _applied() -> int | None:
    """Migrations recorded as applied; None when the database has no migration table yet."""
    if not await Migration.table_exists().run():
        return None
    return await Migration.count().run()


def _sqlite_file(url: str) -> Path | None:
    """The file of a sqlite:// URL, read as loyalchat.db.make_engine reads it."""
    if urlsplit(url).scheme != "sqlite":
        return None
    path = Path(unquote(urlsplit(url).path))
    return Path("/" + str(path).lstrip("/")) if url.startswith("sqlite:////") else path


def _where(settings: Settings) -> str:
    """The database in words, without its password: a file, or host/port/name."""
    url = settings.resolved_database_url
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        return f"SQLite {sqlite_file}"
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"postgres {parts.hostname or 'localhost'}{port}{parts.path}"


def _outcome(created: bool, before: int | None, after: int, where: str) -> str:
    applied = after - (before or 0)
    plural = "migration" if applied == 1 else "migrations"
    if created:
        return f"Created the database ({where}) and applied {applied} {plural}."
    if before is None:
        return f"Set up the empty database ({where}): applied {applied} {plural}."
    if applied:
        return f"Applied {applied} new {plural} to the database ({where}); it is up to date."
    return f"The database ({where}) was already up to date: no migration to apply."


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

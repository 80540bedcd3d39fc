"""``loyalchat wallet-link``: print a member's wallet link (support, demos, tests)."""

from __future__ import annotations

import asyncio

import click

from loyalchat import db
from loyalchat.domain import NotFound


@click.command("wallet-link")
@click.argument("member_no")
@click.option("--tenant", "tenant_slug", required=True, help="The shop's slug.")
def wallet_link_command(member_no: str, tenant_slug: str) -> None:
    """Print MEMBER_NO's wallet link: signed, it works for LOYALCHAT_WALLET_LINK_MAX_AGE."""
    from loyalchat.members import links

    async def run() -> str:
        async with db.connected():
            return await links.wallet_url(member_no, tenant_slug)

    try:
        url = asyncio.run(run())
    except NotFound as exc:
        raise click.ClickException(
            f"no member {member_no!r} in shop {tenant_slug!r}: {exc.message}"
        ) from exc
    click.echo(url)

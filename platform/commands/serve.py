"""``loyalchat serve``: the web server (plus the embedded worker when no Redis is set)."""

from __future__ import annotations

import click

from loyalchat.settings import get_settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, help="Web processes (needs Redis).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve_command(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app; with no LOYALCHAT_REDIS_URL the queue worker runs in-process."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and settings.embedded_queue:
        raise click.ClickException(
            "several web processes need shared sessions and a shared queue: set LOYALCHAT_REDIS_URL"
        )
    mode = "embedded worker" if settings.embedded_queue else "Redis queue"
    click.echo(f"loyalchat on http://{host}:{port} ({settings.database_kind}, {mode})", err=True)
    uvicorn.run(
        "loyalchat.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        reload=reload,
        # X-Forwarded-For/-Proto are believed only from these addresses (None: uvicorn's
        # default, $FORWARDED_ALLOW_IPS or 127.0.0.1): the login throttle keys on the result.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        log_level=settings.log_level.lower(),
        access_log=False,
    )

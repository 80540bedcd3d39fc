"""Liveness (/health) and readiness (/ready: database and broker reachable)."""

from __future__ import annotations

import asyncio

from litestar import Request, Response, get

from loyalchat import db


@get("/health", include_in_schema=True, tags=["health"], sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get("/ready", tags=["health"])
async def ready(request: Request) -> Response[dict]:
    """Readiness: the database answers a query and the broker is reachable."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(db.ping(), timeout=3)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["broker"] = await _broker_status(request)
    ok = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


async def _broker_status(request: Request) -> str:
    settings = request.app.state.settings
    if not settings.redis_url:
        return "ok"  # embedded in-process broker
    import redis.asyncio as aioredis

    try:
        async with aioredis.Redis.from_url(settings.redis_url, socket_timeout=3) as client:
            await client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"

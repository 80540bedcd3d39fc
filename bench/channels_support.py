"""Helpers of ``bench/channels.py``: the shops, the timed fake Graph API, child processes.

The shops are made through the services (``tenants.service``, ``plugin_settings``,
``conversations.service.sync_channel_account``) in a child process with the bench's
settings, as the console would: WhatsApp enabled with a known app secret and the fake's
token. The burst of phase 2 is queued through ``outbox.insert_outbound`` and
``enqueue_sends`` (every row first, then every queue message), as the inbound handler does.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi

# slug, phone_number_id, send rate (None: the bench's --send-rate)
SHOPS = {
    "ingest": ("bench-ingest", "200000000000001", 10_000.0),
    "pace": ("bench-pace", "200000000000002", None),
    "reply": ("bench-reply", "200000000000003", 80.0),
}
APP_SECRET = "bench-app-secret-0123456789abcdef"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def load(url: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def wait_until(check: Callable[[], Any], within: float, *, step: float = 0.05) -> None:
    deadline = time.perf_counter() + within
    while not check():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out after {within:.0f} s waiting for the fake's sends")
        await asyncio.sleep(step)


class GraphFake(FakeGraphApi):
    """The fake Graph API, noting when each accepted send arrived (``perf_counter``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.times: dict[str, list[tuple[float, str]]] = {}
        self._times_lock = threading.Lock()

    def _send(self, version: str, pnid: str, raw: bytes, token: str) -> tuple[int, dict, bytes]:
        arrived = time.perf_counter()
        status, headers, body = super()._send(version, pnid, raw, token)
        if status == 200:
            with self._lock:
                sent = self.sent[-1] if self.sent else None
            to = str(sent.body.get("to") or sent.body.get("recipient") or "") if sent else ""
            with self._times_lock:
                self.times.setdefault(pnid, []).append((arrived, to))
        return status, headers, body

    def times_for(self, pnid: str) -> list[tuple[float, str]]:
        with self._times_lock:
            return list(self.times.get(pnid, ()))

    def clear(self) -> None:
        super().clear()
        with self._times_lock:
            self.times.clear()


def _configure(env: dict[str, str]):
    os.environ.update(env)
    from loyalchat import db
    from loyalchat.log import configure_logging
    from loyalchat.settings import get_settings

    get_settings.cache_clear()
    configure_logging(get_settings())
    return db.configure_database()


def setup_child(job: dict) -> dict:
    """A fresh database (PostgreSQL schema dropped, Redis db flushed) with the three shops."""
    return asyncio.run(_setup(job))


async def _setup(job: dict) -> dict:
    url = job["env"]["LOYALCHAT_DATABASE_URL"]
    if job["redis"]:
        server = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
        try:
            name = url.rsplit("/", 1)[1]
            if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await server.execute(f'CREATE DATABASE "{name}"')
        finally:
            await server.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()
        import redis

        redis.Redis.from_url(job["env"]["LOYALCHAT_REDIS_URL"]).flushdb()
    engine = _configure(job["env"])
    from loyalchat import db
    from loyalchat.context import Actor, tenant_context
    from loyalchat.conversations.service import sync_channel_account
    from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
    from loyalchat.tenants import plugin_settings
    from loyalchat.tenants import service as tenants
    from loyalchat.tenants.tables import TenantStatus

    await db.migrate(engine)
    pm = build_plugin_manager()
    shops = {}
    with use_plugin_manager(pm):
        for role, (slug, pnid, rate) in SHOPS.items():
            shop = await tenants.create_tenant(slug, slug.title(), status=TenantStatus.active)
            values = {
                "phone_number_id": pnid, "waba_id": "300000000000001",
                "display_phone": "+85230000" + pnid[-3:], "access_token": ACCESS_TOKEN,
                "app_secret": APP_SECRET, "verify_token": "bench-verify",
                "rate_per_second": f"{rate or job['send_rate']:g}",
            }  # fmt: skip
            with tenant_context(shop.id, Actor("system", label="bench")):
                await plugin_settings.update_settings("whatsapp", values, pm)
                await plugin_settings.enable_plugin("whatsapp", pm)
                await sync_channel_account("whatsapp", pnid)
            shops[role] = {"id": shop.id, "slug": slug, "phone_number_id": pnid,
                           "app_secret": APP_SECRET}  # fmt: skip
    return shops


def queue_burst_child(job: dict) -> int:
    """Queue ``job["count"]`` replies of the pacing shop's one account; returns how many."""
    return asyncio.run(_queue_burst(job))


async def _queue_burst(job: dict) -> int:
    engine = _configure(job["env"])
    from datetime import UTC, datetime

    from loyalchat.context import tenant_context
    from loyalchat.conversations import outbox
    from loyalchat.conversations.inbound import conversation_for
    from loyalchat.conversations.tables import Conversation, OutboundMessage
    from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
    from loyalchat.scoping import new_row, scoped_update
    from loyalchat.tasks.broker import import_actors, setup_broker

    setup_broker()
    import_actors()
    await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        with use_plugin_manager(build_plugin_manager()), tenant_context(job["shop"]["id"]):
            # One reply to each of ``recipients`` people, round robin: the account's rate is
            # what is measured (one person's messages leave one at a time, in order).
            conversations = []
            for n in range(job["recipients"]):
                conversations.append(await conversation_for("whatsapp", f"8529{n:07d}"))
            await scoped_update(
                Conversation, {Conversation.last_inbound_at: datetime.now(UTC)}
            ).where(Conversation.id.is_in(conversations))
            ids = []
            for n in range(job["count"]):
                row = new_row(OutboundMessage, conversation=conversations[n % len(conversations)],
                              key=f"burst:{n}", kind="text", text=f"Burst message {n}",
                              media_key="", choices="[]", sent_by="bench")  # fmt: skip
                ids.append((await outbox.insert_outbound(row))[0])
            await outbox.enqueue_sends(ids)
    finally:
        await engine.close_connection_pool()
    return len(ids)

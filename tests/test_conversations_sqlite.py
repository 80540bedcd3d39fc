"""The embedded mode (SQLite, the in-process worker): a stored message goes through the
inbox and the bot to the provider once however often it is delivered, as on PostgreSQL.
(``create_app`` configures the settings' database, so the route itself is exercised on
PostgreSQL by test_webhooks_core.py; here events enter as the route stores them.)"""

from __future__ import annotations

import asyncio

import pytest

from loyalchat.context import tenant_context
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import InboundMessage, OutboundMessage
from loyalchat.conversations.webhooks import store_events
from loyalchat.extensions.channels import EventKind, InboundEvent
from loyalchat.inbox.tables import InboundEvent as InboxRow
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests import test_conversations_support as support
from tests.test_conversations_support import KIND, build, connect, installed
from tests.test_tasks_support import drain

stub_broker = support.stub_broker  # fixture


@pytest.mark.sqlite
async def test_replayed_message_is_answered_once_on_sqlite(sqlite_db, stub_broker) -> None:
    tenant = await tenant_service.create_tenant("alpha-tea", "Alpha", status=TenantStatus.active)
    pm, plugin = build()
    worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
    event = InboundEvent(EventKind.text, "sq1", "u1", text="points", profile_name="Ann")
    with installed(pm):
        register_channel_handlers(pm)
        await connect(pm, tenant.id, "alpha-tea")
        try:
            with tenant_context(tenant.id):
                created = await asyncio.gather(*(store_events(KIND, [event]) for _ in range(3)))
            await drain(worker)
        finally:
            await asyncio.to_thread(worker.stop)
    assert sorted(created) == [0, 0, 1]
    assert await InboxRow.count() == 1
    assert await InboundMessage.count() == 1
    replies = await OutboundMessage.select(OutboundMessage.status)
    assert replies and {r["status"] for r in replies} == {"sent"}
    assert len(plugin.adapter.sent) == len(replies)


@pytest.mark.sqlite
async def test_the_conversation_list_reads_on_sqlite(sqlite_db, stub_broker) -> None:
    """The console's conversation list (and each channel's page) on the embedded default:
    the last message either way, unread since staff last answered (the bot's replies do
    not count), two shops apart."""
    from loyalchat.conversations.service import conversations_page

    tenant = await tenant_service.create_tenant("alpha-tea", "Alpha", status=TenantStatus.active)
    other = await tenant_service.create_tenant("bravo-cafe", "Bravo", status=TenantStatus.active)
    pm, _plugin = build()
    worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
    with installed(pm):
        register_channel_handlers(pm)
        await connect(pm, tenant.id, "alpha-tea")
        try:
            with tenant_context(tenant.id):
                await store_events(KIND, [InboundEvent(EventKind.text, "sq2", "u2", text="hi")])
            await drain(worker)
        finally:
            await asyncio.to_thread(worker.stop)
    with tenant_context(tenant.id):
        [row] = await conversations_page()
        assert (row["sender"], row["channel"], row["unread"], row["failed"]) == ("u2", KIND, 1, 0)
        assert row["last_direction"] == "out" and row["last_text"]  # the bot's answer
        assert await conversations_page(channel="nope") == []
    with tenant_context(other.id):
        assert await conversations_page() == []

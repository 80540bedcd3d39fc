"""Queue figures for the admin health panel, from a real Redis broker and the embedded one."""

from __future__ import annotations

import pytest
import redis

from loyalchat.context import tenant_context
from loyalchat.inbox.service import record_inbound
from loyalchat.tasks import reset_broker
from loyalchat.tasks.health import queue_figures
from loyalchat.tenants import service as tenant_service
from tests.test_tasks_support import use_broker


@pytest.mark.parametrize("kind", ["redis", "embedded"])
async def test_waiting_messages_are_counted(kind: str, redis_url: str, clean_db) -> None:
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("loyalchat:*"):
        client.delete(key)
    broker = use_broker(redis_url if kind == "redis" else "")
    try:
        assert (await queue_figures()).waiting == 0
        tenant = await tenant_service.create_tenant("queue-shop", "Queue Shop")
        with tenant_context(tenant.id):
            for n in range(3):
                await record_inbound("whatsapp", f"wamid.{n}", {"n": n})
        # No worker runs: all three wait.
        figures = await queue_figures()
        assert (figures.waiting, figures.dead) == (3, 0)
    finally:
        if kind == "redis":
            broker.flush_all()  # type: ignore[attr-defined]
        reset_broker()
        for key in client.scan_iter("loyalchat:*"):
            client.delete(key)
        client.close()
        use_broker("")

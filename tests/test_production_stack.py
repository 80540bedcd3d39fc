"""The production shape: ``loyalchat serve``, ``worker`` and ``scheduler`` as separate
processes on PostgreSQL and Redis. A row left behind while the queue was unreachable is
swept by the scheduler, processed by the worker, and the web process serves throughout."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis

from loyalchat.inbox.tables import InboundEvent
from loyalchat.tenants import service as tenant_service
from tests.fixtures import PASSWORD, make_world

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def stack(pg_url: str, redis_url: str, tmp_path: Path) -> Iterator[dict]:
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("loyalchat*"):
        client.delete(key)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")},
        "LOYALCHAT_DATABASE_URL": pg_url,
        "LOYALCHAT_REDIS_URL": redis_url,
        "LOYALCHAT_VAR_DIR": str(tmp_path / "var"),
        "LOYALCHAT_SECRET_KEY": "stack-secret-" + "y" * 32,
        "LOYALCHAT_SWEEP_AFTER_SECONDS": "1",
        "LOYALCHAT_SWEEP_INTERVAL_SECONDS": "1",
        "LOYALCHAT_DATABASE_POOL_SIZE": "4",
    }
    commands = {
        "web": ["serve", "--port", str(port)],
        "worker": ["worker", "-p", "1", "-t", "2"],
        "scheduler": ["scheduler"],
    }
    processes: dict[str, subprocess.Popen] = {}
    logs: dict[str, Path] = {}
    for name, args in commands.items():
        logs[name] = tmp_path / f"{name}.log"
        with logs[name].open("wb") as log:
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "loyalchat", *args],
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    try:
        yield {
            "url": f"http://127.0.0.1:{port}",
            "redis_url": redis_url,
            "processes": processes,
            "logs": logs,
        }
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        for key in client.scan_iter("loyalchat*"):
            client.delete(key)
        client.close()


async def _until(predicate, timeout_s: float, what: str, stack: dict) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        for name, process in stack["processes"].items():
            assert process.poll() is None, (
                f"{name} died:\n{stack['logs'][name].read_text()[-3000:]}"
            )
        await asyncio.sleep(0.2)
    logs = "\n".join(f"--- {n}\n{p.read_text()[-2000:]}" for n, p in stack["logs"].items())
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


async def test_serve_worker_and_scheduler_on_postgres_and_redis(stack: dict) -> None:
    world = await make_world("stack-shop")
    # As if the webhook arrived while Redis was down: the row exists, no message does.
    await InboundEvent.insert(
        InboundEvent(
            tenant=world.id,
            source="ghost-channel",
            provider_key="msg-1",
            payload={"text": "hi"},
            updated_at=datetime.now(UTC) - timedelta(minutes=10),
        )
    )

    async with httpx.AsyncClient(base_url=stack["url"], timeout=5, follow_redirects=True) as http:

        async def ready() -> bool:
            try:
                return (await http.get("/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await _until(ready, 40, "the web process to be ready", stack)
        assert (await http.get("/ready")).json()["checks"] == {"database": "ok", "broker": "ok"}

        me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {world.api_key}"})
        assert me.json()["tenant"]["slug"] == "stack-shop"
        login_page = await http.get("/login")
        csrf = http.cookies.get("lc_csrf")
        assert login_page.status_code == 200 and csrf
        signed_in = await http.post(
            "/login",
            data={"email": world.owner.email, "password": PASSWORD},
            headers={"x-csrftoken": csrf},
        )
        assert signed_in.status_code == 200 and "Stack-Shop" in signed_in.text

    async def swept_and_processed() -> bool:
        row = await InboundEvent.select().where(InboundEvent.provider_key == "msg-1").first()
        return row["status"] in ("done", "failed")

    await _until(swept_and_processed, 60, "the sweeper and worker to process the row", stack)
    row = await InboundEvent.select().where(InboundEvent.provider_key == "msg-1").first()
    # No channel plugin handles "ghost-channel": the worker says so instead of losing it.
    assert row["status"] == "failed"
    assert "no handler" in row["last_error"] and "ghost-channel" in row["last_error"]
    assert row["attempts"] >= 1
    # Sessions live in Redis, shared by every web process.
    assert redis.Redis.from_url(stack["redis_url"]).keys("loyalchat*sessions*")
    assert (await tenant_service.get_tenant(world.id)).is_active

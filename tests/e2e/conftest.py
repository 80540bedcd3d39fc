"""End-to-end fixtures: the real server in a subprocess, and Debian's Chromium via Playwright.

The server runs ``uvicorn --factory loyalchat.app:create_app`` against the same PostgreSQL
test database the other fixtures fill (the ``database`` fixture has migrated it first), so a
test creates its tenants with the usual fixtures and then drives the browser.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
STARTUP_TIMEOUT = 30.0
SERVER_LOG: deque[str] = deque(maxlen=500)  # the server's latest log lines, for debugging


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_startup(process: subprocess.Popen[str], deadline: float) -> list[str]:
    """Read the server's log until uvicorn says it is up (or the process dies)."""
    assert process.stdout is not None
    seen: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=remaining):
                break
            line = process.stdout.readline()
            if not line:  # EOF: the server exited
                break
            seen.append(line.rstrip())
            # Printed once the socket listens; "Application startup complete" comes before
            # the bind, and a request sent on it could be refused (it was, once, while the
            # worker's warm-up loaded the OCR models).
            if "Uvicorn running on" in line:
                return seen
    process.kill()
    raise RuntimeError("the server did not start:\n" + "\n".join(seen[-40:]))


@contextmanager
def serving(extra_env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A real loyalchat server (uvicorn subprocess) on a free port, for the block; yields
    its base URL. ``extra_env``: settings (``LOYALCHAT_*`` variables) on top of the usual."""
    port = _free_port()
    env = {
        **os.environ,
        "LOYALCHAT_DATABASE_URL": PG_URL,
        "LOYALCHAT_REDIS_URL": "",
        "LOYALCHAT_VAR_DIR": tempfile.mkdtemp(prefix="loyalchat-e2e-"),
        "LOYALCHAT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOYALCHAT_LOG_LEVEL": "INFO",
        "LOYALCHAT_DATABASE_POOL_SIZE": "5",  # the real server runs with a connection pool
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "loyalchat.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_startup(process, time.monotonic() + STARTUP_TIMEOUT)
        assert httpx.get(f"{base_url}/health", timeout=5).status_code == 200
        # Keep draining the log so a chatty server never blocks on a full pipe.
        threading.Thread(target=SERVER_LOG.extend, args=(process.stdout,), daemon=True).start()
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_server(database: None) -> Iterator[str]:
    """Base URL of a real loyalchat server (uvicorn subprocess) on a free port."""
    with serving() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def start_server(database: None) -> Callable[..., AbstractContextManager[str]]:
    """Another real server, for tests whose server needs other settings than
    ``live_server``'s: ``with start_server({"LOYALCHAT_...": "..."}) as base_url:`` (in a
    module fixture, so the server lives as long as what its settings point at)."""
    return serving


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed: apt-get install chromium (see README.md)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

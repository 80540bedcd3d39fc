"""Mail over SMTP goes through the queue: a real RedisBroker (the test Redis), a real worker
and a real SMTP server (aiosmtpd) that is down, refuses, or comes back.

The backoff between tries is shortened here (the actor's own options, read by dramatiq's
Retries middleware at each failure) so a retry comes in a fraction of a second.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
import redis
import structlog
from structlog.testing import capture_logs

from loyalchat import mail
from loyalchat.settings import get_settings
from loyalchat.tasks import reset_broker
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tasks.health import queue_figures
from loyalchat.tenants.tables import Tenant
from tests.console_helpers import open_client, post_form
from tests.fakes.smtp import SilentServer, free_port, smtp_factory  # noqa: F401 (fixture)
from tests.fixtures import truncate_all
from tests.test_tasks_support import use_broker, wait_for

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")

CONTEXT = {"email": "owner@example.com", "shop": "Tea House", "link": "/x?token=abc", "hours": 48}
SETTLE_S = 1.5  # several backoffs long: time enough for a duplicate to show up


def _flush(client: redis.Redis) -> None:
    for key in client.scan_iter("loyalchat:*"):
        client.delete(key)


@pytest.fixture
def redis_broker(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url)
    _flush(client)
    broker = use_broker(redis_url)
    from loyalchat.mail.tasks import deliver_mail

    monkeypatch.setitem(deliver_mail.options, "min_backoff", 100)
    monkeypatch.setitem(deliver_mail.options, "max_backoff", 400)
    try:
        yield broker
    finally:
        reset_broker()
        _flush(client)
        client.close()
        use_broker("")


@pytest.fixture
def worker(redis_broker: Any) -> Iterator[EmbeddedWorker]:
    running = EmbeddedWorker(redis_broker, threads=2)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("LOYALCHAT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOYALCHAT_MAIL_FROM", "Loyal Chat <hello@shops.example.org>")
    get_settings.cache_clear()
    # An app started by an earlier test may have set the log level to warnings: these
    # tests read the info events (mail.sent) too.
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    yield
    structlog.configure(**saved)
    get_settings.cache_clear()


def _use_smtp_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("LOYALCHAT_SMTP_URL", url)
    get_settings.cache_clear()


def _outbox() -> list[Path]:
    return sorted((get_settings().var_dir / "outbox").glob("*.eml"))


def _events(logs: list[dict], name: str) -> list[dict]:
    return [entry for entry in logs if entry.get("event") == name]


async def test_a_mail_sent_while_the_server_is_down_arrives_once_it_is_back(
    smtp_factory: Any,  # noqa: F811
    worker: EmbeddedWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()  # nothing listens there yet
    _use_smtp_url(monkeypatch, f"smtp://localhost:{port}")
    worker.start()
    with capture_logs() as logs:
        message_id = await mail.send_mail("owner@example.com", "verify_email", CONTEXT)

        async def deferred() -> bool:
            return len(_events(logs, "mail.deferred")) >= 2

        assert await wait_for(deferred, timeout_s=10)
        server = smtp_factory("plain", port=port)  # the server comes back

        async def arrived() -> bool:
            return bool(server.messages)

        assert await wait_for(arrived, timeout_s=15)

        async def logged() -> bool:  # the worker logs once the server has closed the session
            return bool(_events(logs, "mail.sent"))

        assert await wait_for(logged, timeout_s=10)
        await asyncio.sleep(SETTLE_S)
    assert [m["Message-ID"] for m in server.messages] == [message_id]  # once
    assert "/x?token=abc" in server.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert _events(logs, "mail.sent") and not _events(logs, "mail.given_up")
    assert _outbox() == []


async def test_a_451_is_tried_again_and_delivered_once(
    smtp_factory: Any,  # noqa: F811
    worker: EmbeddedWorker,
) -> None:
    server = smtp_factory("starttls", True)
    server.recorder.data_replies += ["451 4.3.0 try again later", "421 4.7.0 busy"]
    worker.start()
    message_id = await mail.send_mail("owner@example.com", "verify_email", CONTEXT)

    async def arrived() -> bool:
        return bool(server.messages)

    assert await wait_for(arrived, timeout_s=15)
    await asyncio.sleep(SETTLE_S)
    assert [m["Message-ID"] for m in server.messages] == [message_id]
    assert server.recorder.data_seen == 3  # two refusals, then the delivery


async def test_a_550_is_given_up_at_once_and_logged(
    smtp_factory: Any,  # noqa: F811
    worker: EmbeddedWorker,
) -> None:
    server = smtp_factory("plain")
    server.recorder.rcpt_replies.append("550 5.1.1 no such mailbox here")
    worker.start()
    with capture_logs() as logs:
        message_id = await mail.send_mail("nobody@example.com", "verify_email", CONTEXT)

        async def given_up() -> bool:
            return bool(_events(logs, "mail.given_up"))

        assert await wait_for(given_up, timeout_s=10)
        await asyncio.sleep(SETTLE_S)
    [entry] = _events(logs, "mail.given_up")
    assert entry["log_level"] == "error" and entry["code"] == 550
    assert entry["message_id"] == message_id and entry["to"] == "nobody@example.com"
    assert server.recorder.rcpt_seen == 1  # not tried again
    assert server.messages == [] and not _events(logs, "mail.deferred")
    # Dead-lettered: the platform admin's health panel counts it.
    assert (await queue_figures()).dead == 1
    # The log names the mail, never its contents (the links in it are credentials).
    assert not any("token=abc" in str(entry) for entry in logs)


async def test_a_mail_the_queue_delivers_twice_goes_out_once(
    smtp_factory: Any,  # noqa: F811
    worker: EmbeddedWorker,
) -> None:
    """A redelivery (the worker that held the job died) or a second copy of the job."""
    from loyalchat.mail.tasks import deliver_mail

    server = smtp_factory("plain")
    rendered = mail.render_mail("verify_email", CONTEXT, "en")
    message = mail.build_message("owner@example.com", rendered.subject, rendered.text)
    raw = base64.b64encode(message.as_bytes(policy=policy.SMTP)).decode()
    for _ in range(3):
        deliver_mail.send(raw)
    worker.start()

    async def arrived() -> bool:
        return bool(server.messages)

    assert await wait_for(arrived, timeout_s=15)
    await asyncio.sleep(SETTLE_S)
    assert len(server.messages) == 1


async def test_sign_up_answers_at_once_while_the_smtp_server_hangs(
    smtp_factory: Any,  # noqa: F811
    redis_broker: Any,
    monkeypatch: pytest.MonkeyPatch,
    clean_db: None,
) -> None:
    silent = SilentServer()
    _use_smtp_url(monkeypatch, silent.url)
    try:
        async with open_client() as client:
            await client.get("/signup")
            started = time.monotonic()
            response = await post_form(
                client,
                "/signup",
                {
                    "email": "owner@tea-house.example",
                    "password": "pour-over 2026 leaves",
                    "shop_name": "Tea House",
                    "slug": "tea-house",
                },
            )
            elapsed = time.monotonic() - started
            page = await client.get(response.headers["location"])
    finally:
        silent.stop()
    assert response.status_code == 303
    # The SMTP timeout is 30 s: a request that talked to the server would still be waiting.
    assert elapsed < 5, elapsed
    assert "flash-warning" not in page.text and "owner@tea-house.example" in page.text
    assert await Tenant.count() == 1
    # The job carries the finished mail: the account and shop going away changes nothing.
    await truncate_all()
    # The server comes back on the same port: the worker delivers the verification mail.
    server = smtp_factory("plain", port=silent.port)
    running = EmbeddedWorker(redis_broker, threads=2)
    running.start()
    try:

        async def arrived() -> bool:
            return bool(server.messages)

        assert await wait_for(arrived, timeout_s=15)
    finally:
        await asyncio.to_thread(running.stop)
    mailed = server.messages[0]
    assert mailed["To"] == "owner@tea-house.example"
    assert "/signup/verify?token=" in mailed.get_body(preferencelist=("plain",)).get_content()

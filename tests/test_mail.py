"""The mailer: templates in three languages, the embedded outbox, and real SMTP servers."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker

from loyalchat import mail
from loyalchat.mail.delivery import PermanentMailError, TemporaryMailError, deliver
from loyalchat.mail.render import MailTemplateError
from loyalchat.mail.send import smtp_target
from loyalchat.settings import get_settings
from loyalchat.tasks import reset_broker
from loyalchat.tasks.embedded import EmbeddedWorker
from tests.fakes.smtp import free_port, smtp_factory, smtp_server  # noqa: F401 (fixtures)
from tests.test_tasks_support import drain, fresh_stub_broker

# aiosmtpd warns about AUTH over implicit TLS, which it does not count as TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")

CONTEXT = {
    "email": "owner@example.com",
    "shop": "Tea House",
    "link": "/signup/verify?token=abc",
    "hours": 48,
}


@pytest.fixture(autouse=True)
def _embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LOYALCHAT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    monkeypatch.setenv("LOYALCHAT_PUBLIC_BASE_URL", "https://shops.example.org/")
    monkeypatch.setenv("LOYALCHAT_MAIL_FROM", "Loyal Chat <hello@shops.example.org>")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _outbox_files() -> list[Path]:
    return sorted((get_settings().var_dir / "outbox").glob("*.eml"))


async def test_embedded_mode_writes_one_rfc5322_file_per_mail() -> None:
    message_id = await mail.send_mail("Owner@Example.com", "verify_email", CONTEXT)
    await mail.send_mail("b@example.com", "verify_email", CONTEXT)
    files = _outbox_files()
    assert len(files) == 2
    parsed = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    first = next(m for m in parsed if m["Message-ID"] == message_id)
    assert first["To"] == "Owner@Example.com"
    assert first["From"] == "Loyal Chat <hello@shops.example.org>"
    assert "Tea House" in first["Subject"]
    assert first["Date"]
    assert first["Message-ID"].endswith("@shops.example.org>")
    text = first.get_body(preferencelist=("plain",)).get_content()
    html = first.get_body(preferencelist=("html",)).get_content()
    assert "https://shops.example.org/signup/verify?token=abc" in text
    assert 'href="https://shops.example.org/signup/verify?token=abc"' in html
    assert not text.startswith("Subject:")


@pytest.mark.parametrize("locale", ["zh-Hant", "zh-Hans", "en", "xx"])
async def test_every_language_renders(locale: str) -> None:
    for template, context in [
        ("verify_email", CONTEXT),
        ("password_reset", {"email": "a@b.c", "link": "/password/reset?token=t", "minutes": 60}),
        (
            "staff_invite",
            {"shop": "S", "inviter": "o@x.y", "role_label": "Cashier", "link": "/i", "days": 7},
        ),
    ]:
        rendered = mail.render_mail(template, context, locale)
        assert rendered.subject and "\n" not in rendered.subject
        assert "https://shops.example.org/" in rendered.text
        assert rendered.html and "<html" in rendered.html


async def test_html_escapes_and_subject_cannot_carry_headers() -> None:
    context = {**CONTEXT, "shop": "Evil\r\nBcc: victim@example.com <b>"}
    await mail.send_mail("a@example.com", "verify_email", context)
    message = BytesParser(policy=policy.default).parsebytes(_outbox_files()[0].read_bytes())
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert "<b>" not in message.get_body(preferencelist=("html",)).get_content()


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at",
        "a@b\r\nBcc: c@d",
        "Name <a@b.c>",
        "a@b.c, d@e.f",
        "a\x00@b.c",
        "a" * 300 + "@b.c",
    ],
)
async def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(mail.MailError):
        await mail.send_mail(address, "verify_email", CONTEXT)
    assert _outbox_files() == []


async def test_unknown_or_hostile_template_names() -> None:
    for name in ["nope", "../../etc/passwd", "_layout", "Verify"]:
        with pytest.raises(MailTemplateError):
            await mail.send_mail("a@example.com", name, CONTEXT)


async def test_outbox_listing_and_reading() -> None:
    first = await mail.send_mail("a@example.com", "verify_email", CONTEXT, tenant_id=7)
    entries = mail.outbox_messages()
    assert len(entries) == 1 and entries[0].to == "a@example.com"
    assert entries[0].template == "verify_email"
    one = mail.read_outbox_message(entries[0].name)
    assert one is not None and "token=abc" in one.text and first in one.raw
    assert mail.read_outbox_message("../secret_key") is None
    assert mail.read_outbox_message("20260101T000000-0000000000000000.eml") is None


async def test_the_outbox_lists_mails_of_the_same_second_in_the_order_they_were_sent() -> None:
    # "the newest mail" is what a person (and the admin's outbox page) reads first; mails
    # written within one second used to sort by a random suffix.
    for n in range(12):
        await mail.send_mail(f"n{n}@example.com", "verify_email", CONTEXT)
    assert [e.to for e in mail.outbox_messages()] == [
        f"n{n}@example.com" for n in reversed(range(12))
    ]


def test_smtp_url_forms() -> None:
    plain = smtp_target("smtp://mail.example.org")
    assert (plain.port, plain.implicit_tls, plain.starttls) == (25, False, False)
    tls = smtp_target("smtps://u%40x:p%20w@mail.example.org")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (465, True, "u@x", "p w")
    start = smtp_target("smtp://mail.example.org:2525?starttls=1")
    assert (start.port, start.starttls) == (2525, True)
    with pytest.raises(mail.MailError):
        smtp_target("http://mail.example.org")


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@pytest.mark.parametrize(("mode", "auth"), [("plain", False), ("starttls", True), ("smtps", True)])
async def test_sends_over_a_real_smtp_server(
    smtp_factory: Any,  # noqa: F811
    stub_broker: StubBroker,
    mode: str,
    auth: bool,
) -> None:
    """With SMTP and no Redis, the embedded queue's worker sends the mail."""
    server = smtp_factory(mode, auth)
    message_id = await mail.send_mail(
        "owner@example.com", "verify_email", CONTEXT, locale="zh-Hant"
    )
    assert server.messages == []  # queued: the caller did not wait for the server
    await drain(EmbeddedWorker(stub_broker, threads=1))
    assert len(server.messages) == 1
    received = server.messages[0]
    assert received["Message-ID"] == message_id
    assert server.recorder.envelopes[0] == ("hello@shops.example.org", ["owner@example.com"])
    body = received.get_body(preferencelist=("plain",)).get_content()
    assert "https://shops.example.org/signup/verify?token=abc" in body
    assert _outbox_files() == []


async def test_without_a_task_broker_the_mail_goes_out_at_once(smtp_server: Any) -> None:  # noqa: F811
    """A process with no queue (a CLI command) sends in place rather than queue to nobody."""
    reset_broker()
    message_id = await mail.send_mail("owner@example.com", "verify_email", CONTEXT)
    assert [m["Message-ID"] for m in smtp_server.messages] == [message_id]


def _message(to: str = "a@example.com") -> Any:
    rendered = mail.render_mail("verify_email", CONTEXT, "en")
    return mail.build_message(to, rendered.subject, rendered.text, rendered.html)


def test_refusals_for_good_and_for_now_are_told_apart(smtp_factory: Any) -> None:  # noqa: F811
    """5xx about the mail: permanent; 4xx, a wrong login, a server down: try again."""
    server = smtp_factory("starttls", True)
    server.recorder.reject_next = True  # 554 at DATA
    with pytest.raises(PermanentMailError) as refused:
        deliver(server.url, _message())
    assert refused.value.code == 554
    server.recorder.rcpt_replies.append("550 5.1.1 no such mailbox")
    with pytest.raises(PermanentMailError):
        deliver(server.url, _message())
    server.recorder.data_replies.append("451 4.3.0 try again later")
    with pytest.raises(TemporaryMailError):
        deliver(server.url, _message())
    with pytest.raises(TemporaryMailError):
        deliver(server.url.replace("s3cret", "wrong"), _message())
    assert server.messages == []
    deliver(server.url, _message())
    assert len(server.messages) == 1


def test_a_server_that_is_down_is_a_temporary_error() -> None:
    with pytest.raises(TemporaryMailError):
        deliver(f"smtp://127.0.0.1:{free_port()}", _message())


async def test_a_bad_smtp_url_is_refused_when_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALCHAT_SMTP_URL", "http://mail.example.org")
    get_settings.cache_clear()
    with pytest.raises(mail.MailError):
        await mail.send_mail("a@example.com", "verify_email", CONTEXT)

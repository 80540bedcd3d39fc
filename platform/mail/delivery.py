"""Handing one finished message to the SMTP server of ``LOYALCHAT_SMTP_URL``.

Blocking (smtplib): the queue's worker threads call it (:mod:`loyalchat.mail.tasks`), never
a web request. Every failure is sorted into one of two kinds:

* :class:`PermanentMailError`: the server refused *this* mail with a 5xx reply (sender,
  recipient or content refused, e.g. ``550 no such user``). Sending it again would get the
  same answer: it is given up at once.
* :class:`TemporaryMailError`: anything else (server down or silent, a 4xx reply such as
  ``451 try later``, TLS or login trouble): worth another try later.

Once the server has said 250 to the message's data the mail is delivered, whatever QUIT
answers afterwards: a failure there must not make the queue send it a second time.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qs, unquote, urlsplit

SMTP_TIMEOUT_SECONDS = 30


class MailError(RuntimeError):
    """The mail could not be built or handed over; the message says why."""


class TemporaryMailError(MailError):
    """The SMTP server could not take the mail now; another try may succeed."""


class PermanentMailError(MailError):
    """The SMTP server refused the mail for good (a 5xx reply about this mail)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    username: str
    password: str
    implicit_tls: bool  # smtps://
    starttls: bool


def smtp_target(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port``, ``smtps://...`` or ``smtp://...?starttls=1``."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise MailError("LOYALCHAT_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://...")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in {"1", "true", "yes", "on"}
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587 if starttls else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        implicit_tls=implicit,
        starttls=starttls and not implicit,
    )


def tls_context() -> ssl.SSLContext:
    """The TLS context for SMTP (the system's trust store; tests swap in their own CA)."""
    return ssl.create_default_context()


def parse_message(raw: bytes) -> EmailMessage:
    """The message a queue job carries, as the :mod:`email` package reads it."""
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def _refusal(exc: smtplib.SMTPException) -> PermanentMailError | None:
    """A 5xx refusal of this mail's sender, recipient or data; None for anything else
    (connection, greeting, TLS and login problems concern the server, not the mail)."""
    codes: list[int] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [int(code) for code, _ in exc.recipients.values()]
    elif isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        codes = [int(exc.smtp_code)]
    if codes and all(500 <= code < 600 for code in codes):
        return PermanentMailError(f"the SMTP server refused the mail: {exc}", max(codes))
    return None


def deliver(url: str, message: EmailMessage, tls: ssl.SSLContext | None = None) -> None:
    """Send ``message`` to the server of ``url``; raises Temporary- or PermanentMailError."""
    target = smtp_target(url)
    tls = tls or tls_context()
    try:
        client: smtplib.SMTP
        if target.implicit_tls:
            client = smtplib.SMTP_SSL(
                target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=tls
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as exc:
        raise TemporaryMailError(f"the SMTP server could not be reached: {exc}") from exc
    try:
        client.ehlo()
        if target.starttls:
            client.starttls(context=tls)
            client.ehlo()
        if target.username:
            client.login(target.username, target.password)
        client.send_message(message)
    except smtplib.SMTPException as exc:
        raise _refusal(exc) or TemporaryMailError(
            f"the SMTP server did not take it: {exc}"
        ) from exc
    except OSError as exc:
        raise TemporaryMailError(f"the SMTP connection failed: {exc}") from exc
    finally:
        _close(client)


def _close(client: smtplib.SMTP) -> None:
    """QUIT politely; whatever happens now changes nothing about the mail."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()

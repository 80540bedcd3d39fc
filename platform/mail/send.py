"""Build an RFC 5322 message and send it: queued for SMTP, or written to the embedded outbox.

With ``LOYALCHAT_SMTP_URL`` the finished message is queued for the ``deliver_mail`` actor
(:mod:`loyalchat.mail.tasks`: retries with backoff, once per Message-ID), so a request
never waits for the SMTP server. Without it, the message is written to
``<var_dir>/outbox/`` at once (a local file: scripts and tests read it as soon as the
request has answered).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import anyio
import structlog

from loyalchat.mail.delivery import (
    SMTP_TIMEOUT_SECONDS,
    MailError,
    SmtpTarget,
    deliver,
    smtp_target,
    tls_context,
)
from loyalchat.mail.outbox import write_to_outbox
from loyalchat.mail.render import render_mail
from loyalchat.settings import Settings, get_settings
from loyalchat.tasks import BrokerNotConfigured, configured_broker

__all__ = [
    "SMTP_TIMEOUT_SECONDS",
    "MailError",
    "SmtpTarget",
    "build_message",
    "check_address",
    "send_mail",
    "set_enqueue",
    "smtp_target",
    "tls_context",
]

log = structlog.get_logger(__name__)

_ADDRESS = re.compile(r"^[^@\s<>,;:\"\\]{1,64}@[^@\s<>,;:\"\\]{1,253}$")
_LINK = re.compile(r"https?://[^\s<>\"']+")

# Set by loyalchat.mail.tasks when the actors are imported (after the broker is set up).
_enqueue: Callable[[bytes], None] | None = None


def set_enqueue(enqueue: Callable[[bytes], None] | None) -> None:
    """How a finished message (its RFC 5322 bytes) is queued for SMTP delivery."""
    global _enqueue
    _enqueue = enqueue


def _queue() -> Callable[[bytes], None] | None:
    """The enqueue function when this process has a task broker, else None."""
    if _enqueue is None:
        return None
    try:
        configured_broker()
    except BrokerNotConfigured:
        return None
    return _enqueue


def check_address(to: str) -> str:
    """One plain address (no display name, no header tricks), or MailError."""
    to = to.strip()
    if len(to) > 254 or not _ADDRESS.match(to) or any(ord(c) < 32 or ord(c) == 127 for c in to):
        raise MailError("not a deliverable e-mail address")
    return to


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    settings: Settings | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """An RFC 5322 message from the configured sender to ``to``."""
    settings = settings or get_settings()
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = check_address(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def send_mail(
    to: str,
    template: str,
    context: dict[str, Any],
    *,
    locale: str = "en",
    tenant_id: int | None = None,
) -> str:
    """Render mail ``template`` in ``locale`` for ``to`` and send it; returns its Message-ID.

    With ``LOYALCHAT_SMTP_URL`` the finished message is queued for the SMTP server (sent
    at once, in a worker thread, by a process with no task broker, such as a CLI command);
    without it, it is written to ``<var_dir>/outbox/`` before this returns and its links
    are logged. Raises :class:`MailError` for an address that cannot be mailed, a bad
    SMTP URL or a queue that cannot be reached.
    """
    settings = get_settings()
    rendered = render_mail(template, context, locale)
    extra = {"X-Loyalchat-Template": template}
    if tenant_id is not None:
        extra["X-Loyalchat-Tenant"] = str(int(tenant_id))
    message = build_message(
        to, rendered.subject, rendered.text, rendered.html, settings=settings, headers=extra
    )
    message_id = str(message["Message-ID"])
    facts = {"template": template, "message_id": message_id, "tenant_id": tenant_id}
    if settings.smtp_url:
        smtp_target(settings.smtp_url)  # a bad URL is refused now, not once per retry
        enqueue = _queue()
        if enqueue is None:
            await anyio.to_thread.run_sync(deliver, settings.smtp_url, message)
            log.info("mail.sent", **facts)
            return message_id
        try:
            enqueue(message.as_bytes(policy=policy.SMTP))
        except Exception as exc:  # the broker (Redis) cannot be reached
            log.warning("mail.queue_failed", error=str(exc), **facts)
            raise MailError(f"the mail could not be queued: {exc}") from exc
        log.info("mail.queued", **facts)
        return message_id
    path = await anyio.to_thread.run_sync(write_to_outbox, message, settings)
    log.info(
        "mail.outbox",
        to=message["To"],
        file=str(path),
        links=_LINK.findall(rendered.text),
        **facts,
    )
    return message_id

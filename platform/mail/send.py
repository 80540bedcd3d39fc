"""Build an RFC 5322 message and deliver it: over SMTP, or into the embedded outbox."""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import anyio
import structlog

from loyalchat.mail.outbox import write_to_outbox
from loyalchat.mail.render import render_mail
from loyalchat.settings import Settings, get_settings

log = structlog.get_logger(__name__)

SMTP_TIMEOUT_SECONDS = 30
_ADDRESS = re.compile(r"^[^@\s<>,;:\"\\]{1,64}@[^@\s<>,;:\"\\]{1,253}$")
_LINK = re.compile(r"https?://[^\s<>\"']+")


class MailError(RuntimeError):
    """The mail could not be built or handed to the SMTP server."""


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


def _deliver_smtp(target: SmtpTarget, message: EmailMessage, tls: ssl.SSLContext) -> None:
    client: smtplib.SMTP
    if target.implicit_tls:
        client = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=tls
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if target.starttls:
            client.starttls(context=tls)
            client.ehlo()
        if target.username:
            client.login(target.username, target.password)
        client.send_message(message)


def tls_context() -> ssl.SSLContext:
    """The TLS context for SMTP (the system's trust store; tests swap in their own CA)."""
    return ssl.create_default_context()


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

    With ``LOYALCHAT_SMTP_URL`` the message goes to that server (smtplib in a worker
    thread); without it, it is written to ``<var_dir>/outbox/`` and its links are logged.
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
    if settings.smtp_url:
        target = smtp_target(settings.smtp_url)
        try:
            await anyio.to_thread.run_sync(_deliver_smtp, target, message, tls_context())
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail.smtp_failed", template=template, error=str(exc))
            raise MailError(f"the SMTP server refused or could not be reached: {exc}") from exc
        log.info("mail.sent", template=template, message_id=message_id, tenant_id=tenant_id)
        return message_id
    path = await anyio.to_thread.run_sync(write_to_outbox, message, settings)
    log.info(
        "mail.outbox",
        template=template,
        to=message["To"],
        file=str(path),
        links=_LINK.findall(rendered.text),
        tenant_id=tenant_id,
    )
    return message_id

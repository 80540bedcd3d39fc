"""A real SMTP server in-process (aiosmtpd) that keeps what it receives.

It speaks SMTP on a free local port, plain, with STARTTLS, or over implicit TLS
(``smtps``), with AUTH PLAIN/LOGIN for one user when asked. The TLS certificate is made
at start for ``localhost``/127.0.0.1 and trusted through ``SSL_CERT_FILE``, which the
standard library's default context reads, so the mailer verifies it as it would a real one.

    def test_x(smtp_server):                 # LOYALCHAT_SMTP_URL points at it
        await send_mail(...)
        smtp_server.messages[0]              # email.message.EmailMessage
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from loyalchat.settings import get_settings

USER, PASSWORD = "mailer", "s3cret pass"


@dataclass
class Recorder:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reject_next: bool = False
    # Replies to the next RCPT TO / DATA commands, in order (e.g. "451 4.3.0 try later"),
    # before the server accepts again; and how many of each it was asked.
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_seen: int = 0
    data_seen: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_seen += 1
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_seen += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        if self.reject_next:
            self.reject_next = False
            return "554 5.7.1 refused by the test"
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """One running aiosmtpd server; ``url`` is what LOYALCHAT_SMTP_URL should say."""

    def __init__(
        self, folder: Path, mode: str = "plain", auth: bool = False, port: int | None = None
    ) -> None:
        self.recorder = Recorder()
        self.mode = mode
        self.auth = auth
        self.cert, self.key = make_certificate(folder)
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(self.cert, self.key)
        self.port = port or free_port()
        options: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": self.port,
            "server_hostname": "localhost",
            "ready_timeout": 10,
        }
        if mode == "smtps":
            options["ssl_context"] = server_tls
        elif mode == "starttls":
            options["tls_context"] = server_tls
            options["require_starttls"] = True
        if auth:
            options["authenticator"] = _authenticate
            options["auth_required"] = True
            # aiosmtpd counts only STARTTLS as TLS; implicit TLS (smtps) is encrypted anyway.
            options["auth_require_tls"] = mode == "starttls"
        self.controller = Controller(self.recorder, **options)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages

    @property
    def url(self) -> str:
        scheme = "smtps" if self.mode == "smtps" else "smtp"
        login = f"{USER}:{PASSWORD.replace(' ', '%20')}@" if self.auth else ""
        query = "?starttls=1" if self.mode == "starttls" else ""
        return f"{scheme}://{login}localhost:{self.port}{query}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start servers by mode ("plain", "starttls", "smtps"), on a free port or the one
    given; the last one is configured."""
    started: list[SmtpServer] = []

    def start(mode: str = "plain", auth: bool = False, port: int | None = None) -> SmtpServer:
        folder = tmp_path / f"smtp{len(started)}"
        folder.mkdir()
        server = SmtpServer(folder, mode, auth, port)
        server.start()
        started.append(server)
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
        monkeypatch.setenv("LOYALCHAT_SMTP_URL", server.url)
        get_settings.cache_clear()
        return server

    yield start
    for server in started:
        server.stop()
    get_settings.cache_clear()


@pytest.fixture
def smtp_server(smtp_factory: Any) -> SmtpServer:
    return smtp_factory("plain")


class SilentServer:
    """A port that takes TCP connections and never says a word: an SMTP server that
    hangs. A client waits for its greeting until its own timeout."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)  # the kernel completes handshakes; nobody ever accepts
        self.port = self.socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"smtp://localhost:{self.port}"

    def stop(self) -> None:
        self.socket.close()


# -- the embedded outbox, read as a person reads their mail -------------------------------

_LINK = re.compile(r"https?://[^\s<>\"']+")


def clear_outbox() -> None:
    """Forget every mail in ``<var_dir>/outbox`` (tests share one var_dir)."""
    folder = get_settings().var_dir / "outbox"
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink()


def outbox_mails(to: str | None = None) -> list[EmailMessage]:
    """The outbox's mails (to ``to`` when given), oldest first, parsed as RFC 5322."""
    folder = get_settings().var_dir / "outbox"
    if not folder.is_dir():
        return []
    mails = [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in sorted(folder.glob("*.eml"))
    ]
    return [m for m in mails if to is None or str(m["To"]).lower() == to.lower()]  # type: ignore[misc]


def last_link(to: str, contains: str) -> str:
    """The path (and query) of the newest link containing ``contains`` mailed to ``to``."""
    base = get_settings().public_base_url.rstrip("/")
    for message in reversed(outbox_mails(to)):
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for link in _LINK.findall(text):
            if contains in link:
                assert link.startswith(base + "/"), f"link not absolute from the base: {link}"
                return link[len(base) :]
    raise AssertionError(f"no mail to {to} with a link containing {contains!r}")

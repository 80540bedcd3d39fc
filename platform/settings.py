"""Typed settings read from ``LOYALCHAT_*`` environment variables and a ``.env`` file.

The embedded default needs no configuration: SQLite under ``./var``, no Redis (an
in-process worker), media under ``./var/media`` and keys generated once under ``./var``.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from loyalchat.keyfiles import fernet_problem, persisted_key, secret_problem


class Settings(BaseSettings):
    """Every knob of a loyalchat process; README.md has the same table for operators."""

    model_config = SettingsConfigDict(
        env_prefix="LOYALCHAT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    var_dir: Path = Field(
        Path("./var"), description="Folder for the SQLite file, media and generated keys."
    )
    database_url: str = Field(
        "",
        description="`sqlite:///path/to/file.db` or `postgresql://user:pass@host:port/db`; "
        "empty means `sqlite:///<var_dir>/loyalchat.db`.",
    )
    database_pool_size: int = Field(
        10, description="Maximum PostgreSQL connections per process; 0: a connection per query."
    )
    redis_url: str = Field(
        "",
        description="`redis://host:port/db`. Empty runs embedded: in-process worker threads, "
        "in-memory sessions and rate limits.",
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Signs sessions, CSRF tokens and member links. Empty: generated once "
        "into `<var_dir>/secret_key`.",
    )
    encryption_key: SecretStr = Field(
        SecretStr(""),
        description="Fernet key(s) for tenant secrets at rest, comma-separated, newest first "
        "(rotation). Empty: generated once into `<var_dir>/encryption_key`.",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL people and webhooks reach us on."
    )
    smtp_url: str = Field(
        "",
        description="Outgoing mail: `smtp://user:pass@host:port`, `smtps://...` (TLS) or "
        "`smtp://...?starttls=1`. Empty: each mail is written to `<var_dir>/outbox/` and its "
        "links logged (see Mail).",
    )
    whatsapp_api_base: str = Field(
        "https://graph.facebook.com",
        description="Meta's Graph API: scheme + host (+ port), no path; the WhatsApp channel "
        "appends `/v<version>/...`. Staging and tests point it at a local fake.",
    )
    wechat_api_base: str = Field(
        "https://api.weixin.qq.com",
        description="WeChat's API: scheme + host (+ port), no path; the WeChat channel appends "
        "`/cgi-bin/...`. Staging and tests point it at a local fake.",
    )
    whatsapp_app_secret: SecretStr = Field(
        SecretStr(""),
        description="The platform's own Meta app (one webhook for many shops' numbers, routed "
        "by phone_number_id): its app secret. Empty: only shops' own apps.",
    )
    whatsapp_verify_token: SecretStr = Field(
        SecretStr(""), description="The platform's Meta app: the webhook verify token."
    )
    whatsapp_access_token: SecretStr = Field(
        SecretStr(""),
        description="The platform's Meta app: a system user token that may send for the "
        "numbers it serves (a shop's own token, when set, wins).",
    )
    mail_from: str = Field("loyalchat <noreply@localhost>", description="Sender of outgoing mail.")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(False, description="Log one JSON object per line (for production).")
    worker_processes: int = Field(1, description="`loyalchat worker` processes.")
    worker_threads: int = Field(4, description="Threads per worker (and in-process worker).")
    blocked_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Plugin names never loaded, comma-separated, e.g. `tesseract,paddleocr`.",
    )
    load_entrypoints: bool = Field(
        True, description="Load plugins from the `loyalchat` entry-point group."
    )
    secure_cookies: bool | None = Field(
        None, description="Mark cookies Secure; default: on when public_base_url is https."
    )
    session_max_age: int = Field(60 * 60 * 12, description="Staff session lifetime, seconds.")
    wallet_link_max_age: int = Field(
        60 * 60 * 24,
        description="How long a member's wallet link works, seconds (the chat sends new ones).",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Login attempts per account (4x per client IP) before each further "
        "attempt must wait: 30 seconds, doubling up to login_lockout_seconds.",
    )
    login_lockout_seconds: int = Field(
        900,
        ge=1,
        description="The longest wait between login attempts once they are throttled; "
        "attempts are forgotten this long after the last wait ends.",
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Proxies whose X-Forwarded-For/-Proto `loyalchat serve` believes, "
        "comma-separated IPs or networks; empty: `$FORWARDED_ALLOW_IPS`, else 127.0.0.1 only.",
    )
    sweep_after_seconds: int = Field(
        300, description="Rows in a non-final state longer than this are re-enqueued."
    )
    sweep_interval_seconds: int = Field(60, description="How often the scheduler sweeps.")
    inbox_retention_days: int = Field(
        30,
        ge=1,
        description="Inbound webhook events are deleted this many days after they were "
        "processed (done or failed); unprocessed ones are kept.",
    )
    billing_grace_days: int = Field(
        7,
        ge=0,
        le=365,
        description="Days a shop keeps working after a failed or missing plan payment; "
        "then it is suspended until a payment arrives.",
    )
    manual_payment_instructions: str = Field(
        "",
        description="Bank transfer / FPS details shown to a merchant paying by hand "
        "(account name and number, FPS id); the payment reference is added below them.",
    )

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and (problem := secret_problem(secret)):
            raise ValueError(f"LOYALCHAT_SECRET_KEY {problem}")
        return value

    @field_validator("encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr) -> SecretStr:
        for n, key in enumerate(value.get_secret_value().split(","), start=1):
            if key.strip() and (problem := fernet_problem(key.strip())):
                raise ValueError(f"LOYALCHAT_ENCRYPTION_KEY: key {n} {problem}")
        return value

    @field_validator("blocked_plugins", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # -- derived values -------------------------------------------------------------

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'loyalchat.db').resolve()}"

    @property
    def database_kind(self) -> str:
        scheme = urlsplit(self.resolved_database_url).scheme
        if scheme.startswith("postgres"):
            return "postgres"
        if scheme == "sqlite":
            return "sqlite"
        raise ValueError(f"unsupported LOYALCHAT_DATABASE_URL scheme {scheme!r}")

    @property
    def media_dir(self) -> Path:
        return self.var_dir / "media"

    @property
    def embedded_queue(self) -> bool:
        return not self.redis_url

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_base_url.startswith("https://")

    def secret(self) -> str:
        """The signing secret, generated and kept under var_dir when not configured."""
        if value := self.secret_key.get_secret_value():
            return value
        return persisted_key(
            self.var_dir / "secret_key",
            lambda: secrets.token_urlsafe(48),
            secret_problem,
            "LOYALCHAT_SECRET_KEY",
        )

    def fernet_keys(self) -> list[str]:
        """Encryption keys, newest first; generated and kept under var_dir when unset."""
        if value := self.encryption_key.get_secret_value():
            return [key.strip() for key in value.split(",") if key.strip()]
        key = persisted_key(
            self.var_dir / "encryption_key",
            lambda: Fernet.generate_key().decode(),
            fernet_problem,
            "LOYALCHAT_ENCRYPTION_KEY",
        )
        return [key]


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call ``get_settings.cache_clear()``."""
    return Settings()

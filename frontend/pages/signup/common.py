"""What the account pages share: their rate limits, signing a person in, sending mail."""

from __future__ import annotations

import math
import time
from typing import Any

import structlog
from litestar import Request

from loyalchat import i18n, mail
from loyalchat.context import Actor, reset_actor, set_actor
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.settings import get_settings
from loyalchat.tenants import accounts, audit, sessions
from loyalchat.tenants.throttle import (
    Admission,
    AttemptStore,
    MemoryAttemptStore,
    RedisAttemptStore,
    Rule,
)

log = structlog.get_logger(__name__)

PUBLIC = {"isolation": "public"}
# action -> (free attempts, first wait in seconds) per key; waits double up to an hour.
LIMITS = {
    "signup": 10,  # per client IP: shops created
    "forgot": 3,  # per address: reset mails; x4 per client IP
    "reset": 20,  # per client IP: new passwords set (argon2 each)
    "resend": 3,  # per account: verification mails
    "invite_accept": 20,  # per client IP: accounts made from invitations (argon2 each)
    "invite_send": 30,  # per shop: invitation mails
}
FIRST_WAIT, LONGEST_WAIT = 60.0, 3600.0
TOO_MANY = N_("Too many attempts. Try again later (in about %(minutes)s minutes).")
MAIL_FAILED = N_("We could not send the e-mail just now. Please try again in a few minutes.")


class AccountThrottle:
    """Attempts per action and key (IP, address, account), in Redis when configured."""

    def __init__(self, store: AttemptStore) -> None:
        self.store = store

    async def admit(self, action: str, *keys: str, ip: str | None = None) -> Admission:
        free = LIMITS[action]
        rules = [
            Rule(f"{action}:{key}", free, FIRST_WAIT, LONGEST_WAIT, LONGEST_WAIT) for key in keys
        ]
        if ip is not None:
            rules.append(
                Rule(f"{action}:ip:{ip}", free * 4, FIRST_WAIT, LONGEST_WAIT, LONGEST_WAIT)
            )
        wait = await self.store.admit(rules, time.time())
        if wait > 0:
            return Admission(False, max(1, math.ceil(round(wait, 3))))
        return Admission(True)


def account_throttle(request: Request) -> AccountThrottle:
    state = request.app.state
    if getattr(state, "account_throttle", None) is None:
        settings = get_settings()
        store: AttemptStore = (
            RedisAttemptStore(settings.redis_url, namespace="loyalchat:throttle:accounts")
            if settings.redis_url
            else MemoryAttemptStore()
        )
        state.account_throttle = AccountThrottle(store)
    return state.account_throttle


def too_many(request: Request, admission: Admission) -> str:
    return i18n.gettext(request, TOO_MANY, minutes=max(1, math.ceil(admission.retry_after / 60)))


async def sign_in(request: Request, user: accounts.StaffInfo, tenant_id: int | None) -> None:
    """Start a fresh session for ``user`` in ``tenant_id``, as /login does (new session id)."""
    stamp = await accounts.session_stamp(user.id)
    sessions.sign_in(request.session, user.id, tenant_id, stamp or "")
    token = set_actor(Actor("staff", user.id, user.email))
    try:
        await audit.record(
            "staff.login", f"staff:{user.id}", tenant_id=tenant_id, ip=ui.client_ip(request)
        )
    finally:
        reset_actor(token)


async def try_send(to: str, template: str, context: dict[str, Any], **options: Any) -> bool:
    """Send a mail; False (logged) when the address or the SMTP server refuses it."""
    try:
        await mail.send_mail(to, template, context, **options)
    except mail.MailError as exc:
        log.warning("account_mail_failed", template=template, error=str(exc))
        return False
    return True

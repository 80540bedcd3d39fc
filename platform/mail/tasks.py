"""The mail actor: hand a finished message to the SMTP server, with retries. Import only
after ``setup_broker()`` (``import_actors()`` does: a core actor module).

With ``LOYALCHAT_SMTP_URL`` set, :func:`loyalchat.mail.send_mail` renders and builds the
message in the request, then queues it here whole (the RFC 5322 bytes): a template
changed or a row deleted meanwhile changes nothing in a mail already queued, and no
request waits for an SMTP server that is slow or down.
"""

from __future__ import annotations

import base64
import hashlib

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from loyalchat.mail import send
from loyalchat.mail.delivery import PermanentMailError, TemporaryMailError, deliver, parse_message
from loyalchat.mail.outbox import write_to_outbox
from loyalchat.mail.sent_marks import MemorySentMarks, RedisSentMarks, SentMarks, new_token
from loyalchat.settings import get_settings
from loyalchat.tasks import actor, configured_broker

log = structlog.get_logger(__name__)

MAIL_QUEUE = "mail"
# Waits double from 15-30 s (dramatiq's jitter) to at most an hour: 12 retries cover three
# to six hours of an SMTP server that is down or answers 4xx ("try later").
MAX_RETRIES = 12
MIN_BACKOFF_MS = 15_000
MAX_BACKOFF_MS = 60 * 60_000

_memory_marks = MemorySentMarks()


def _marks() -> SentMarks:
    broker = configured_broker()
    if isinstance(broker, RedisBroker):
        return RedisSentMarks(broker.client)
    return _memory_marks


def _retries_done() -> tuple[int, int]:
    """(retries so far, retries allowed) of the message being worked."""
    message = CurrentMessage.get_current_message()
    if message is None:  # called directly, not by a worker
        return 0, 0
    allowed = message.options.get("max_retries", deliver_mail.options.get("max_retries", 0))
    return int(message.options.get("retries", 0)), int(allowed)


def _give_up() -> None:
    """Dead-letter the message being worked (the health panel counts it), without the
    traceback line that would print the whole mail, links included, into the log."""
    message = CurrentMessage.get_current_message()
    if message is not None:
        message.fail()


@actor(
    queue_name=MAIL_QUEUE,
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    # Each SMTP step may wait SMTP_TIMEOUT_SECONDS; the whole conversation stays far under
    # sent_marks.SENDING_SECONDS, so a live run keeps its claim.
    time_limit=4 * 60_000,
)
def deliver_mail(raw: str) -> None:
    """Send the base64 RFC 5322 message ``raw`` to the SMTP server, once.

    Retry policy: a server that is down, silent or answers 4xx is tried again with
    backoff (15 s doubling, at most 1 h apart, ``MAX_RETRIES`` times), then the mail is
    given up; a 5xx refusal of this mail (``550 no such user``) at once. Given up means an
    error in the log (``mail.given_up``) and the message dead-lettered. Safe to run twice:
    the mail's Message-ID is marked sent (:mod:`loyalchat.mail.sent_marks`).
    """
    data = base64.b64decode(raw)
    message = parse_message(data)
    message_id = str(message["Message-ID"] or "") or hashlib.sha256(data).hexdigest()
    facts = {
        "template": str(message["X-Loyalchat-Template"] or ""),
        "message_id": message_id,
        "to": str(message["To"] or ""),
    }
    url = get_settings().smtp_url
    if not url:  # SMTP was switched off since the mail was queued: keep it, locally
        path = write_to_outbox(message)
        log.info("mail.outbox", file=str(path), **facts)
        return
    marks, token = _marks(), new_token()
    claim = marks.claim(message_id, token)
    if claim == "sent":
        log.info("mail.already_sent", **facts)
        return
    if claim == "busy":
        raise dramatiq.Retry("another run is sending this mail")
    try:
        deliver(url, message)
    except PermanentMailError as exc:
        marks.release(message_id, token)
        log.error("mail.given_up", reason="refused", code=exc.code, error=str(exc), **facts)
        _give_up()
        return
    except TemporaryMailError as exc:
        marks.release(message_id, token)
        done, allowed = _retries_done()
        if done >= allowed:
            log.error(
                "mail.given_up", reason="retries exhausted", tries=done + 1, error=str(exc), **facts
            )
        else:
            log.warning("mail.deferred", attempt=done + 1, error=str(exc), **facts)
        raise dramatiq.Retry(str(exc)) from exc
    marks.sent(message_id)
    log.info("mail.sent", **facts)


def _enqueue(message_bytes: bytes) -> None:
    deliver_mail.send(base64.b64encode(message_bytes).decode("ascii"))


send.set_enqueue(_enqueue)

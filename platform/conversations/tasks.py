"""Conversation actors: send an outbox row. Import only after ``setup_broker()``.

Importing this module (``import_actors()`` does, in the web app, the embedded worker and
every ``loyalchat worker``) also routes the inbox events of every installed channel to
the inbound handler, when the process has its plugin manager already (the worker); the
web app does it in ``create_app`` with the manager it built.
"""

from __future__ import annotations

import dramatiq

from loyalchat.context import NoTenantContext
from loyalchat.conversations import outbox
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import OutboundMessage, OutboundStatus
from loyalchat.pluginmanager import NoPluginManager, current_plugin_manager
from loyalchat.tasks import actor, register_sweepable


@actor(
    max_retries=outbox.MAX_SEND_ATTEMPTS,
    min_backoff=1_000,
    max_backoff=5 * 60_000,
    # Well under sweep_after_seconds, so the sweeper never takes a live send for a dead one.
    time_limit=120_000,
    throws=(NoTenantContext,),
)
async def send_outbound(outbound_id: int) -> None:
    """Send outbox row ``outbound_id`` of the message's tenant.

    Retry policy: a send the provider calls temporary goes back to ``queued`` and is
    retried (after the provider's ``retry_after`` when given, else backoff 1 s .. 5 min),
    up to ``MAX_SEND_ATTEMPTS`` (counted on the row), then ``failed``. Idempotent: a row
    that is not ``queued`` (sent, failed, another run's) is left alone.
    """
    try:
        await outbox.deliver(outbound_id)
    except outbox.RetryLater as exc:
        raise dramatiq.Retry(str(exc), delay=exc.delay_ms) from exc


outbox.set_enqueue(
    send_outbound.send,
    lambda outbound_id, delay_ms: send_outbound.send_with_options(
        args=(outbound_id,), delay=delay_ms
    ),
)

# Rows left queued (a lost message, Redis down) or sending (a killed worker) are re-sent;
# a stuck 'sending' row goes back to 'queued' so the claim takes it again.
register_sweepable(
    OutboundMessage,
    OutboundMessage.status,
    (OutboundStatus.queued.value, OutboundStatus.sending.value),
    OutboundMessage.updated_at,
    send_outbound,
    reset_status=OutboundStatus.queued.value,
)

try:
    register_channel_handlers(current_plugin_manager())
except NoPluginManager:
    pass  # the web app registers them in create_app()

"""Per-recipient pacing (WhatsApp's pair rate limit): a burst of ``burst`` messages to one
person goes at once, the rest leave no faster than the channel's ``per_second``, a long
wait goes back on the queue without spending an attempt, and another person is not
delayed. The real product against the fake Graph API (``tests/test_channel_journeys.py``'s
fixtures), with the send limiters on Redis.
"""

from __future__ import annotations

import logging

import pytest

from loyalchat.context import tenant_context
from loyalchat.conversations import outbox, service
from loyalchat.conversations.tables import OutboundMessage
from loyalchat.extensions.channels import RecipientPace
from loyalchat.plugins.whatsapp import WhatsAppAdapter
from tests import test_channel_journeys as journeys
from tests.fakes.graph_api import FakeGraphApi
from tests.test_channel_journeys import CUSTOMER, WhatsApp, member_of
from tests.test_tasks_support import drain

graph_api = journeys.graph_api
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
whatsapp = journeys.whatsapp

OTHER = "85291230000"


def times_to(graph: FakeGraphApi, to: str) -> list[float]:
    """When each message the fake accepted for ``to`` arrived (read after the drain)."""
    return sorted(m.at for m in graph.sent if str(m.body.get("to", "")).endswith(to))


def test_whatsapp_declares_its_pair_rate_limit() -> None:
    """One message per 6 s to a person, a burst of 20 (Meta: up to 45, 131056 beyond)."""
    pace = outbox.recipient_pace(WhatsAppAdapter())
    assert pace == RecipientPace(per_second=1 / 6, burst=20)


async def test_a_burst_to_one_person_is_paced_and_others_are_not_delayed(
    whatsapp: WhatsApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A burst of 5 refilled at one every 4 s (WhatsApp's 20 and 6 s make a long test): the
    # wait for the recipient's turn is over outbox.RECIPIENT_SLEEP_MAX, so it is re-queued.
    pace = RecipientPace(per_second=0.25, burst=5)
    monkeypatch.setattr(WhatsAppAdapter, "recipient_pace", pace)
    await whatsapp.say("hi")
    await whatsapp.say("hi", wa_id=OTHER)
    graph = whatsapp.graph
    already = len(times_to(graph, CUSTOMER))  # the bot's answers to "hi" spent tokens too
    assert already < pace.burst
    extra = pace.burst + 2 - already  # two past the burst
    conversation = (await member_of(whatsapp.a.world, CUSTOMER))["conversation"]["id"]
    other = (await member_of(whatsapp.a.world, OTHER))["conversation"]["id"]
    with tenant_context(whatsapp.a.world.id), caplog.at_level(logging.INFO, outbox.log.name):
        ids = [
            await service.queue_reply(conversation, f"News {n}", key=f"news:{n}", sent_by="t")
            for n in range(extra)
        ]
        ids.append(await service.queue_reply(other, "Hello", key="other", sent_by="t"))
        await drain(whatsapp.worker)

    rows = await OutboundMessage.select().where(OutboundMessage.id.is_in(ids))
    assert {(row["status"], row["attempts"]) for row in rows} == {("sent", 1)}  # no retry spent
    assert "recipient's turn, queued for then" in caplog.text  # no worker held meanwhile
    times = times_to(graph, CUSTOMER)
    assert len(times) == pace.burst + 2
    # Never faster than the bucket: in any stretch, at most the burst plus what refilled.
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            assert j - i + 1 <= pace.burst + (times[j] - start) * pace.per_second + 0.05
    # The other person's message did not wait behind the paced ones.
    [to_other] = [t for t in times_to(graph, OTHER) if t > times[already]]
    assert to_other < times[pace.burst]

"""The console thread's live refresh (GET /console/conversations/<id>/live, polled by
static/js/conversation.js): a message that arrives, and a delivery state that changes,
show up in the fragment only once they happened; the same stamp is "204, nothing new";
another shop's staff get 404, someone signed out the login page. Through the real
WhatsApp webhook, inbox actor, bot and outbox, as tests/test_console_conversations.py."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from tests.console_helpers import login
from tests.fakes.whatsapp_webhooks import status, text_message
from tests.test_console_conversations import (
    CUSTOMER,
    Chat,
    _conversation,
    chat,
    graph_api,
    stub_broker,
)

__all__ = ["chat", "graph_api", "stub_broker"]  # the fixtures
STAMP = re.compile(r'data-stamp="([0-9a-f]+)"')


async def test_a_new_message_and_a_delivery_state_appear_in_the_fragment(chat: Chat) -> None:
    await chat.write(text_message("first question", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    client = chat.client
    await login(client, chat.a.world.cashier.email)
    path = f"/console/conversations/{conversation['id']}"
    page = await client.get(path)
    assert page.status_code == 200
    assert f'data-thread-live="{path}/live"' in page.text
    assert '<script src="/static/js/conversation.js" defer></script>' in page.text
    stamp = STAMP.search(page.text).group(1)

    unchanged = await client.get(f"{path}/live", params={"seen": stamp})
    assert unchanged.status_code == 204 and unchanged.content == b""  # nothing new yet
    before = await client.get(f"{path}/live")  # no stamp: the messages as they are now
    assert before.status_code == 200 and "first question" in before.text
    assert "second question" not in before.text
    assert before.headers["x-thread-stamp"] == stamp
    assert "<html" not in before.text  # a fragment, not a page

    await chat.write(text_message("second question", wa_id=CUSTOMER))
    after = await client.get(f"{path}/live", params={"seen": stamp})
    assert after.status_code == 200 and "second question" in after.text
    assert after.headers["cache-control"] == "no-store"
    new_stamp = after.headers["x-thread-stamp"]
    assert new_stamp != stamp
    assert (await client.get(f"{path}/live", params={"seen": new_stamp})).status_code == 204

    # The bot's last answer is delivered, then read: each is a change the page picks up.
    wamid = chat.graph.sent[-1].wamid
    assert 'data-status="delivered"' not in after.text
    await chat.write(status(wamid, "delivered", recipient=CUSTOMER))
    delivered = await client.get(f"{path}/live", params={"seen": new_stamp})
    assert delivered.status_code == 200 and 'data-status="delivered"' in delivered.text
    await chat.write(status(wamid, "read", recipient=CUSTOMER))
    read = await client.get(f"{path}/live", params={"seen": delivered.headers["x-thread-stamp"]})
    assert read.status_code == 200 and 'data-status="read"' in read.text


async def test_another_shops_staff_get_404_and_a_stranger_the_login(chat: Chat) -> None:
    await chat.write(text_message("bravo question", wa_id="85290000000"), shop=chat.b)
    theirs = await _conversation(chat.b.world)
    client = chat.client
    await login(client, chat.a.world.owner.email)
    live = await client.get(f"/console/conversations/{theirs['id']}/live")
    assert live.status_code == 404 and "bravo question" not in live.text
    missing = await client.get("/console/conversations/999999999/live")
    assert missing.status_code == 404
    async with AsyncTestClient(app=chat.client.app) as anonymous:
        stranger = await anonymous.get(
            f"/console/conversations/{theirs['id']}/live", follow_redirects=False
        )
    assert stranger.status_code in (302, 303, 401) and "bravo question" not in stranger.text

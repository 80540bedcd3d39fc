"""Webhooks answered before Litestar's router (conversations.hookserver) answer exactly as
the registered routes do, with the same refusals: the input guard, the body cap and the
security headers still apply (the access log: tests/test_access_log.py)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from loyalchat.inbox.tables import InboundEvent
from tests import test_conversations_support as support
from tests.test_conversations_support import KIND, Chat, body, signed, text_event

stub_broker = support.stub_broker  # fixtures
chat = support.chat

URL_A = f"/hooks/{KIND}/alpha-tea"


async def test_the_fast_path_and_the_router_give_the_same_answers(chat: Chat) -> None:
    payload = body(text_event("same", "積分"))
    forged = {"x-signature": "0" * 64}
    async with AsyncTestClient(app=chat.app) as client:
        fast = await client.post(URL_A, content=payload, headers=signed(payload))
        routed = await client.post(URL_A + "/", content=payload, headers=signed(payload))
        fast_bad = await client.post(URL_A, content=payload, headers=forged)
        routed_bad = await client.post(URL_A + "/", content=payload, headers=forged)
        unknown = [
            await client.post(path, content=payload, headers=signed(payload))
            for path in (f"/hooks/{KIND}/no-such-shop", f"/hooks/{KIND}/no-such-shop/")
        ]
    assert (fast.status_code, fast.text) == (routed.status_code, routed.text) == (200, "ok")
    assert fast.headers["content-type"] == routed.headers["content-type"]
    assert fast.headers["x-content-type-options"] == "nosniff"  # the app's security headers
    assert (fast_bad.status_code, routed_bad.status_code) == (401, 401)
    assert [a.status_code for a in unknown] == [404, 404]
    assert await InboundEvent.count() == 1  # the second delivery was a replay


async def test_refusals_before_anything_is_read_or_stored(chat: Chat) -> None:
    payload = body(text_event("guarded", "hi"))
    nul_json = b'{"events": [{"id": "m-nul", "from": "u", "text": "a\\u0000b"}]}'
    deep = b"[" * 100 + b"]" * 100
    async with AsyncTestClient(app=chat.app) as client:
        nul_query = await client.post(URL_A + "?x=%00", content=payload, headers=signed(payload))
        nul_body = await client.post(URL_A, content=nul_json, headers=signed(nul_json))
        too_deep = await client.post(URL_A, content=deep, headers=signed(deep))
        declared = await client.post(
            URL_A,
            content=payload,
            headers={**signed(payload), "content-length": str(2 * 1024 * 1024)},
        )
        put = await client.put(URL_A, content=payload, headers=signed(payload))
    assert [r.status_code for r in (nul_query, nul_body, too_deep)] == [400, 400, 400]
    assert "NUL" in nul_query.text and "NUL" in nul_body.text
    assert declared.status_code == 413
    assert put.status_code == 405  # not a webhook method: the router's answer
    assert await InboundEvent.count() == 0

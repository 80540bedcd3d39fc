"""Join codes with a branch, and the branch a conversation joined through, end to end.

A QR is made by the kit, printed (the receipt PNG), decoded with zxing-cpp and "scanned":
the WhatsApp link's prefilled text is sent as a signed webhook, the WeChat scene comes
back as a signed SCAN push; the real inbox, bot and PostgreSQL store the join, and
:func:`loyalchat.qrkit.branches.branch_of_conversation` reads it back.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pluggy
import pytest
import zxingcpp
from PIL import Image

from loyalchat.bot.words import join_code as typed_join_code
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation, InboundMessage
from loyalchat.extensions.channels import get_channels
from loyalchat.qrkit import branches, codes, kit
from loyalchat.qrkit.receipt_png import receipt_png
from loyalchat.scoping import new_row, save_row
from loyalchat.tenants.service import get_tenant
from tests import test_channel_journeys as journeys
from tests import test_channel_journeys_more as more
from tests.fakes.wechat_webhooks import OPENID, scan_webhook
from tests.fixtures import World

# Fixtures of the channel journeys (real app, in-process broker, fakes of Meta and WeChat).
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
graph_api = journeys.graph_api
whatsapp = journeys.whatsapp
wechat_api = more.wechat_api
wechat = more.wechat

SYSTEM = Actor("system")


def test_codes_carry_a_branch_the_bots_join_word_reads() -> None:
    assert codes.join_code("alpha-tea") == "alpha-tea"
    assert codes.join_code("alpha-tea", "central") == "alpha-tea#central"
    code = typed_join_code("JOIN Alpha-Tea#Central")  # typed in capitals: still one code
    assert code == "alpha-tea#central"
    assert codes.split_code(code) == ("alpha-tea", "central")
    assert codes.split_code(typed_join_code("JOIN alpha-tea")) == ("alpha-tea", "")
    assert codes.split_code("alpha-tea#no spaces!") == ("alpha-tea", "")
    long_slug = "a" * 60
    scene = codes.join_code(long_slug, "central", codes.WECHAT_SCENE_MAX)
    assert scene == "#central" and codes.split_code(scene) == ("", "central")
    assert not codes.valid_branch("-central") and not codes.valid_branch("a" * 17)


async def _chat(world: World, sender: str, *lines: tuple[str, str]) -> int:
    """A conversation with these (kind, text) inbound messages, oldest first."""
    with tenant_context(world.id, SYSTEM):
        conversation = new_row(Conversation, channel="whatsapp", sender=sender)
        await save_row(conversation)
        for n, (kind, text) in enumerate(lines):
            row = new_row(
                InboundMessage,
                conversation=conversation.id,
                provider_id=f"{sender}-{n}",
                kind=kind,
                text=text,
            )
            await save_row(row)
    return conversation.id


async def test_the_latest_join_names_the_branch(tenant_a: World, tenant_b: World) -> None:
    for world in (tenant_a, tenant_b):
        with tenant_context(world.id, SYSTEM):
            await branches.add_branch("central", {"en": "Central"})
            await branches.add_branch("kowloon", {"en": "Kowloon"})
    cases = {
        "": [("text", "hello")],
        "central": [("text", "JOIN alpha-tea#central"), ("text", "points"), ("image", "")],
        "kowloon": [("text", "JOIN alpha-tea#central"), ("event", "follow alpha-tea#kowloon")],
        "none-after": [("text", "JOIN alpha-tea#central"), ("text", "join alpha-tea")],
        "other-shop": [("text", "JOIN bravo-bakery#central")],
        "unknown": [("text", "JOIN alpha-tea#mongkok")],
        "short": [("event", "follow #kowloon")],
        "joined-word": [("text", "JOIN alpha-tea#central"), ("text", "joined yesterday")],
    }
    expected = {
        "": "",
        "central": "central",
        "kowloon": "kowloon",
        "none-after": "",
        "other-shop": "",
        "unknown": "",
        "short": "kowloon",
        "joined-word": "central",
    }
    ids = {name: await _chat(tenant_a, f"s-{name}", *lines) for name, lines in cases.items()}
    theirs = await _chat(tenant_b, "b-1", ("text", "JOIN bravo-bakery#central"))
    with tenant_context(tenant_a.id, SYSTEM):
        found = {name: await branches.branch_of_conversation(cid) for name, cid in ids.items()}
        assert await branches.branch_of_conversation(theirs) == ""  # B's conversation
    assert found == expected
    with tenant_context(tenant_b.id, SYSTEM):
        assert await branches.branch_of_conversation(theirs) == "central"
        assert await branches.branch_of_conversation(ids["central"]) == ""  # A's


async def _printed_link(world: World, pm: pluggy.PluginManager, kind: str, branch: str) -> str:
    """The link in the kit's receipt PNG for ``kind``, read back off the picture."""
    with tenant_context(world.id, SYSTEM):
        tenant = await get_tenant(world.id)
        found = await branches.get_branch(branch)
        links = await kit.channel_links(tenant, [get_channels(pm)[kind]], found)
        content = kit.content_of(tenant, links, found)
    [decoded] = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(receipt_png(content, content.qrs[0], 58)))
    )
    return decoded.text


async def test_scanning_a_branch_qr_on_whatsapp_attributes_the_chat(
    whatsapp: journeys.WhatsApp, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        await branches.add_branch("central", {"zh-Hant": "中環店", "en": "Central"})
    link = await _printed_link(tenant_a, plugins, "whatsapp", "central")
    [prefilled] = parse_qs(urlsplit(link).query)["text"]
    assert prefilled == "JOIN alpha-tea#central"
    replies = await whatsapp.say(prefilled)
    assert replies  # welcomed: the code with a branch is a join like any other
    row = (
        await Conversation.select(Conversation.id).where(Conversation.tenant == tenant_a.id).first()
    )
    with tenant_context(tenant_a.id, SYSTEM):
        assert await branches.branch_of_conversation(row["id"]) == "central"
    await whatsapp.say("JOIN alpha-tea")  # the shop's plain QR later: no branch now
    with tenant_context(tenant_a.id, SYSTEM):
        assert await branches.branch_of_conversation(row["id"]) == ""


async def test_scanning_a_branch_qr_on_wechat_attributes_the_chat(
    wechat: more.WeChat, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        await branches.add_branch("central", {"en": "Central"})
    link = await _printed_link(tenant_a, plugins, "wechat", "central")
    scene = wechat.api.qrcodes[-1]["action_info"]["scene"]["scene_str"]
    assert scene == "alpha-tea#central" and link.endswith(scene.encode().hex())
    assert await wechat.push(scan_webhook(more.CONFIG, OPENID, scene)) == "success"
    row = (
        await Conversation.select(Conversation.id).where(Conversation.tenant == tenant_a.id).first()
    )
    with tenant_context(tenant_a.id, SYSTEM):
        assert await branches.branch_of_conversation(row["id"]) == "central"


@pytest.mark.sqlite
async def test_branches_and_the_latest_join_on_sqlite(sqlite_db) -> None:
    """The embedded mode: the migration's unique index and the join lookup on SQLite."""
    from loyalchat.domain import Conflict
    from loyalchat.tenants import service as tenant_service
    from loyalchat.tenants.tables import TenantStatus

    tenant = await tenant_service.create_tenant("alpha-tea", "Alpha", status=TenantStatus.active)
    with tenant_context(tenant.id, SYSTEM):
        await branches.add_branch("central", {"en": "Central"})
        with pytest.raises(Conflict):
            await branches.add_branch("central", {"en": "Again"})
        conversation = new_row(Conversation, channel="whatsapp", sender="u1")
        await save_row(conversation)
        for n, text in enumerate(("Join Alpha-Tea#Central", "hello")):
            await save_row(
                new_row(
                    InboundMessage, conversation=conversation.id, provider_id=f"m{n}", text=text
                )
            )
        assert await branches.branch_of_conversation(conversation.id) == "central"

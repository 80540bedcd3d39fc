"""Channel fixes found after issue 10's pieces met: a WhatsApp member found through the API
by the phone the channel gave, one conversation when Meta adds a business-scoped id, the
web chat page's language, and a first contact's picture handed to ``receipt_received``
with its member.

The real parts of ``tests/test_channel_journeys.py`` (whose fixtures these tests use):
signed webhooks to the real route, the inbox and outbox actors, the fake Graph API.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from loyalchat.api_errors import MESSAGES
from loyalchat.bot import texts
from loyalchat.bot.engine import respond
from loyalchat.context import tenant_context
from loyalchat.conversations import state
from loyalchat.conversations.tables import Conversation, InboundMessage
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import translations
from loyalchat.members.tables import Member
from loyalchat.receipts.replies import IN_REVIEW
from tests import test_channel_journeys as journeys
from tests import test_channel_journeys_more as more
from tests.api_support import bearer
from tests.bot_helpers import CHAT, joined, make_turn, open_conversation
from tests.fakes.wechat_webhooks import OPENID, subscribe_webhook
from tests.fakes.whatsapp_webhooks import image_message, text_message
from tests.fixtures import World
from tests.media_helpers import png
from tests.test_channel_journeys import CUSTOMER, HANT, WhatsApp, all_text, member_of
from tests.test_tasks_support import drain, wait_for

# Fixtures, from the WhatsApp journey and the fakes.
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
graph_api = journeys.graph_api
whatsapp = journeys.whatsapp
wechat_api = more.wechat_api
wechat = more.wechat


async def test_the_api_finds_a_whatsapp_member_by_the_phone_the_channel_gave(
    whatsapp: WhatsApp,
) -> None:
    await whatsapp.say("JOIN ALPHA")
    member = await member_of(whatsapp.a.world, CUSTOMER)
    assert member["phone"] == f"+{CUSTOMER}" and member["verified"] is False
    client = whatsapp.client
    found = await client.get(
        "/api/v1/members", params={"q": CUSTOMER}, headers=bearer(whatsapp.a.world.api_key)
    )
    assert found.status_code == 200
    assert [m["member_no"] for m in found.json()["items"]] == [member["member_no"]]
    other = await client.get(
        "/api/v1/members", params={"q": CUSTOMER}, headers=bearer(whatsapp.b.world.api_key)
    )
    assert other.status_code == 200 and other.json()["total"] == 0


async def test_a_phone_someone_typed_is_kept_and_an_invalid_one_never_stops_a_join(
    whatsapp: WhatsApp,
) -> None:
    await whatsapp.say("JOIN ALPHA")
    member = await member_of(whatsapp.a.world, CUSTOMER)
    await Member.update({Member.phone: "+85298765432"}).where(Member.id == member["id"])
    await whatsapp.say("points")
    assert (await member_of(whatsapp.a.world, CUSTOMER))["phone"] == "+85298765432"

    await whatsapp.say("JOIN ALPHA", wa_id="1555")  # no number phonenumbers knows
    joined = await member_of(whatsapp.a.world, "1555")
    assert joined["phone"] == "" and joined["member_no"] == "M000002"
    assert await Conversation.count() == 2


async def test_a_business_scoped_id_added_later_keeps_the_conversation(
    whatsapp: WhatsApp,
) -> None:
    """Known by wa_id only, then Meta adds the BSUID: the same conversation (moved to the
    new sender), its language and its pending question kept, no "Welcome back"."""
    await whatsapp.say("JOIN ALPHA")
    await whatsapp.say("English")
    asked = await whatsapp.say("name")
    assert texts.say("en", texts.ASK_NAME) in all_text(asked)
    [before] = await Conversation.select()
    bsuid = "US.13491208655302741918"
    sent = len(whatsapp.graph.sent)
    answer = text_message("Chan Tai Man", wa_id=CUSTOMER, user_id=bsuid)
    assert await whatsapp.post(answer) == 200
    replies = all_text(whatsapp.graph.bodies[sent:])
    assert "Welcome back" not in replies and "歡迎回來" not in replies
    [after] = await Conversation.select()
    assert (after["id"], after["sender"], after["locale"]) == (before["id"], bsuid, "en")
    member = await member_of(whatsapp.a.world, bsuid)
    assert member["name"] == "Chan Tai Man" and await Member.count() == 1
    assert await InboundMessage.count().where(InboundMessage.conversation == after["id"]) == 4


async def test_wechat_outside_its_window_says_the_customer_must_write_first(
    wechat: more.WeChat,
) -> None:
    """WeChat has no templates: a 45015 failure says the 48-hour window, not a setting."""
    assert await wechat.push(subscribe_webhook(more.CONFIG, OPENID, "ALPHA")) == "success"
    wechat.api.fail_next(45015)
    assert await wechat.say("points") == []
    failed = (await journeys.outbound_rows(wechat.world, OPENID))[-1]
    assert failed["status"] == "failed" and failed["error_code"] == "45015"
    assert "48-hour window" in failed["error"] and "customer writes first" in failed["error"]
    assert "template" not in failed["error"].replace("no message templates", "")


def test_every_error_code_of_the_chat_core_and_bot_has_a_message_in_three_languages() -> None:
    """The API and the console show a code's text from ``MESSAGES``, translated."""
    root = Path(__file__).resolve().parents[1] / "platform"
    found = set()
    for folder in ("conversations", "bot"):
        for path in (root / folder).rglob("*.py"):
            found |= set(re.findall(r'\bcode\s*=\s*"([a-z_]+)"', path.read_text()))
    found |= {"out_of_stock", "reward_unavailable"}  # bot/rewards.py picks one of these
    assert {"window_closed", "channel_account_taken", "invalid_account_id"} <= found
    for code in sorted(found):
        assert code in MESSAGES, code
        for locale in ("zh-Hant", "zh-Hans"):
            assert translations(locale).gettext(MESSAGES[code]) != MESSAGES[code], (code, locale)


async def test_the_web_chat_pages_language_is_the_first_guess(tenant_a: World) -> None:
    """The shop reads Traditional Chinese; the page's language answers a first "JOIN" or
    an emoji; Chinese the visitor wrote, or a language chosen before, still comes first."""

    async def first(sender: str, text: str, page: str, chosen: str = "") -> str:
        conversation = await open_conversation(channel="webchat", sender=sender)
        if chosen:
            await state.set_locale(conversation, chosen)
        turn = make_turn(conversation, text, channel="webchat", sender=sender, raw={"locale": page})
        return joined(await respond(turn))

    with tenant_context(tenant_a.id, CHAT):
        join_en = await first("dev-1", "JOIN ALPHA", "en")
        emoji_hans = await first("dev-2", "👍", "zh-Hans")
        written_hant = await first("dev-3", "你好嗎", "en")
        chosen_hans = await first("dev-4", "Hi", "en", chosen="zh-Hans")
    assert "Welcome! You are member M000001 of Alpha-Tea." in join_en
    assert "欢迎！你是 Alpha-Tea 的会员 M000002。" in emoji_hans
    assert "歡迎！你是 Alpha-Tea 的會員 M000003。" in written_hant
    assert "欢迎！你是 Alpha-Tea 的会员 M000004。" in chosen_hans


def test_parse_says_unknown_types_become_unsupported_texts() -> None:
    """What the first-party adapters and docs/plugins.md do, the protocol says."""
    from loyalchat.extensions.channels import ChannelAdapter

    doc = " ".join((ChannelAdapter.parse.__doc__ or "").split())
    assert "skipped" not in doc
    assert 'text=""' in doc and 'raw={"unsupported": "<type>"}' in doc


class ReceiptRecorder:
    """A tiny receipt plugin: records what ``receipt_received`` is given, takes nothing."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    @hookimpl
    def receipt_received(
        self,
        tenant_id: int,
        member_id: int | None,
        conversation_id: int,
        media_key: str,
        inbound_message_id: int,
    ) -> None:
        self.calls.append({"tenant_id": tenant_id, "member_id": member_id, "media": media_key})


async def test_a_first_contacts_picture_reaches_the_receipt_hook_with_its_member(
    whatsapp: WhatsApp,
) -> None:
    recorder = ReceiptRecorder()
    whatsapp.pm.register(recorder, name="receipt-recorder")
    try:
        photo = png((600, 800), "white")
        media_id = whatsapp.graph.add_media(photo, "image/png", phone_number_id=whatsapp.a.pnid)
        sent = len(whatsapp.graph.sent)
        picture = image_message(media_id, mime_type="image/png", wa_id=CUSTOMER)
        assert await whatsapp.post(picture) == 200
    finally:
        whatsapp.pm.unregister(name="receipt-recorder")
    member = await member_of(whatsapp.a.world, CUSTOMER)
    assert recorder.calls == [
        {
            "tenant_id": whatsapp.a.world.id,
            "member_id": member["id"],
            "media": hashlib.sha256(photo).hexdigest(),
        }
    ]
    # Welcomed, then the receipt pipeline's answer (a blank picture: the shop will check it),
    # paced behind the welcome: sent once the worker has run what the pacing delayed.
    review = texts.say(HANT, IN_REVIEW, hours=24)

    async def answered() -> bool:
        await drain(whatsapp.worker)
        return review in all_text(whatsapp.graph.bodies[sent:])

    assert await wait_for(answered, timeout_s=30)
    assert member["member_no"] in all_text(whatsapp.graph.bodies[sent:])

"""WeChat's reward list links each reward to its page in the member's wallet.

Through the real product as a member sees it (signed safe-mode pushes, the inbox and
outbox actors, the WeChat fake that refuses a text over 2,048 bytes): the numbered list
has one ``<a href>`` per reward, each opens that reward in that member's wallet and no
one else's, an expired or altered link is refused with the friendly page, the number
still chooses, and a long catalogue is cut to fit WeChat's limit with a link to them all.
The bot alone: WhatsApp keeps its list and a channel without links its plain numbers.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from loyalchat.bot import texts
from loyalchat.bot.chat import LINKED_TEXT_BYTES, MAX_CHOICES
from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.channels import Capability
from loyalchat.ledger import service as ledger
from loyalchat.members import links
from loyalchat.rewards import service as rewards
from loyalchat.settings import get_settings
from tests import test_channel_journeys as journeys
from tests import test_channel_journeys_more as more
from tests.bot_helpers import (
    CHAT,
    TEXT_ONLY,
    WECHAT,
    WHATSAPP,
    conversation_row,
    open_conversation,
    say,
)
from tests.fakes.wechat_webhooks import OPENID, subscribe_webhook
from tests.fixtures import World
from tests.wallet_helpers import by_testid

# Fixtures of the channel journeys: the app, the worker, Redis, the WeChat fake.
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
wechat_api = more.wechat_api
wechat = more.wechat
WeChat = more.WeChat
CONFIG = more.CONFIG
HANT = journeys.HANT
OTHER = "oLoyalChat_member_0000000002"
LINE = re.compile(r'^(\d+)\. <a href="([^"]+)">([^<]*)</a>', re.M)
WECHAT_LINKS = WECHAT | {Capability.text_links}


async def _member(wechat: WeChat, openid: str, points: int) -> dict:
    assert await wechat.push(subscribe_webhook(CONFIG, openid, "ALPHA")) == "success"
    member = await journeys.member_of(wechat.world, openid)
    await journeys.give_points(wechat.world, member["id"], points)
    return member


async def _list(wechat: WeChat, openid: str) -> str:
    before = len(wechat.api.messages)
    assert await wechat.push(more.text_webhook(CONFIG, openid, "rewards")) == "success"
    return more.texts_of(wechat.api.messages[before:])


def _path(url: str) -> str:
    return urlsplit(url).path


async def _open(wechat: WeChat, url: str):
    """What the member's tap opens (the confirm page hands out a form token by redirect)."""
    return await wechat.client.get(_path(url), follow_redirects=True)


async def test_each_reward_links_to_itself_in_the_members_wallet_and_the_number_still_chooses(
    wechat: WeChat,
) -> None:
    ids = await journeys.add_rewards(wechat.world, 3)
    member = await _member(wechat, OPENID, 500)
    listed = await _list(wechat, OPENID)

    lines = LINE.findall(listed)
    assert [number for number, _url, _title in lines] == ["1", "2", "3"]
    assert listed.count("<a href=") == 3  # one link per reward, nothing else linked
    assert len(listed.encode()) <= LINKED_TEXT_BYTES
    assert listed.endswith(texts.say(HANT, texts.PICK_NUMBER))
    for (_n, url, title), reward_id in zip(lines, ids, strict=True):
        assert url.startswith(get_settings().public_base_url)
        assert _path(url).endswith(f"/rewards/{reward_id}")
        page = await _open(wechat, url)
        assert page.status_code == 200
        [shown] = by_testid(page.text, "confirm-reward")  # a long name is cut in the chat
        assert shown.startswith(title.removesuffix("…")) and len(title) <= 40
        assert 'data-testid="confirm-redeem"' in page.text  # 500 points: redeemable there
    # The wallet behind the links is this member's.
    wallet = _path(lines[0][1]).rsplit("/rewards/", 1)[0]
    card = await wechat.client.get(wallet)
    assert by_testid(card.text, "wallet-member-no") == [member["member_no"]]

    # The number still picks the reward, as before.
    before = len(wechat.api.messages)
    assert await wechat.push(more.text_webhook(CONFIG, OPENID, "2")) == "success"
    confirm = more.texts_of(wechat.api.messages[before:])
    assert "Gift 1" in confirm and "399" in confirm  # 500 - 101


async def test_a_members_links_never_open_another_members_wallet(wechat: WeChat) -> None:
    await journeys.add_rewards(wechat.world, 2)
    alice = await _member(wechat, OPENID, 500) | {"points": 500}
    bob = await _member(wechat, OTHER, 300) | {"points": 300}
    alice_url = LINE.findall(await _list(wechat, OPENID))[0][1]
    bob_url = LINE.findall(await _list(wechat, OTHER))[0][1]
    assert _path(alice_url) != _path(bob_url)

    for url, mine, theirs in ((alice_url, alice, bob), (bob_url, bob, alice)):
        page = await _open(wechat, url)
        assert page.status_code == 200
        assert by_testid(page.text, "confirm-reward")  # the reward, for this member
        card = await wechat.client.get(_path(url).rsplit("/rewards/", 1)[0])
        assert by_testid(card.text, "wallet-member-no") == [mine["member_no"]]
        assert theirs["member_no"] not in card.text
        assert by_testid(card.text, "wallet-points") == [f"{mine['points']:,}"]
        assert f"<dd>{mine['points']:,}</dd>" in page.text  # "Your points" on the reward

    # Alice's link with Bob's id put in: the signature no longer matches.
    token = _path(alice_url).split("/")[2]
    bob_payload = links.make_token(wechat.world.id, bob["id"]).split(".", 1)[0]
    forged = _path(alice_url).replace(token, bob_payload + "." + token.split(".", 1)[1])
    refused = await _open(wechat, forged)
    assert refused.status_code == 403
    assert bob["member_no"] not in refused.text and alice["member_no"] not in refused.text


async def test_an_expired_or_altered_reward_link_is_refused_clearly(wechat: WeChat) -> None:
    await journeys.add_rewards(wechat.world, 1)
    member = await _member(wechat, OPENID, 500)
    url = LINE.findall(await _list(wechat, OPENID))[0][1]
    path = _path(url)
    token = path.split("/")[2]

    altered = path.replace(token, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    response = await _open(wechat, altered)
    assert response.status_code == 403
    assert 'data-testid="refresh-keyword"' in response.text
    assert member["member_no"] not in response.text and "Free coffee" not in response.text

    age = get_settings().wallet_link_max_age + 60

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - age

    old = URLSafeTimedSerializer(get_settings().secret(), salt=links.SALT, signer=Past)
    stale = path.replace(token, old.dumps([wechat.world.id, member["id"], 0]))
    response = await _open(wechat, stale)
    assert response.status_code == 410
    assert by_testid(response.text, "refresh-keyword") == ["會員"]  # ask the chat for a new one
    assert member["member_no"] not in response.text and "Free coffee" not in response.text


async def test_a_long_catalogue_is_cut_to_wechats_limit_with_a_link_to_all(
    wechat: WeChat,
) -> None:
    owner = Actor("staff", wechat.world.owner.id, "Owner")
    with tenant_context(wechat.world.id, owner):
        for n in range(12):
            # 40 characters and more (cut to 40 in the chat), three bytes each.
            name = (
                f"第{n}號：季節限定手工朱古力蛋糕禮盒連精品咖啡兩杯套餐，任選口味及尺寸，門市限定"
            )
            await rewards.create_reward(
                {
                    "name": {"en": name, "zh-Hant": name},
                    "points_cost": 100 + n,
                    "type": "coupon",
                    "options": {"benefit": name},
                }
            )
    await _member(wechat, OPENID, 5000)
    listed = await _list(wechat, OPENID)  # the fake refuses a text over 2,048 bytes

    assert len(listed.encode()) <= LINKED_TEXT_BYTES
    lines = LINE.findall(listed)
    assert 1 <= len(lines) < MAX_CHOICES  # fewer rewards, each still a link
    assert [int(number) for number, _u, _t in lines] == list(range(1, len(lines) + 1))
    see_all = texts.say(HANT, texts.SEE_ALL)
    [all_url] = re.findall(rf'<a href="([^"]+)">{see_all}</a>', listed)
    assert _path(all_url).endswith("/rewards")
    catalogue = await wechat.client.get(_path(all_url))
    assert catalogue.status_code == 200 and "第11號" in catalogue.text

    # The last number shown chooses its reward; the next one is not a choice.
    last = len(lines)
    before = len(wechat.api.messages)
    assert await wechat.push(more.text_webhook(CONFIG, OPENID, str(last + 1))) == "success"
    assert "第" not in more.texts_of(wechat.api.messages[before:])
    listed = await _list(wechat, OPENID)
    before = len(wechat.api.messages)
    assert await wechat.push(more.text_webhook(CONFIG, OPENID, str(last))) == "success"
    assert f"第{last - 1}號" in more.texts_of(wechat.api.messages[before:])


# -- the bot alone: other channels keep what they had ------------------------------------


@pytest.mark.parametrize(
    ("capabilities", "as_choices"),
    [(WHATSAPP, True), (WECHAT, True), (TEXT_ONLY, False)],
    ids=["whatsapp-list", "choices-without-links", "numbered-text"],
)
async def test_channels_without_text_links_get_no_links(
    tenant_a: World, capabilities: frozenset, as_choices: bool
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        await rewards.create_reward(
            {
                "name": {"en": "Cake"},
                "points_cost": 50,
                "type": "coupon",
                "options": {"benefit": "Cake"},
            }
        )
        conversation = await open_conversation()
        await say(conversation, "hi", capabilities=capabilities)
        member = (await conversation_row(conversation))["member"]
        await ledger.earn(member, 100, key="seed")
        [listed] = await say(conversation, "rewards", capabilities=capabilities)
    assert "<a " not in listed.text and "/w/" not in listed.text
    assert bool(listed.choices) is as_choices
    if not as_choices:
        assert "1. Cake" in listed.text


async def test_with_text_links_the_bot_sends_numbered_links_not_choices(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        cake = await rewards.create_reward(
            {
                "name": {"en": "Cake <b>"},
                "points_cost": 50,
                "type": "coupon",
                "options": {"benefit": "Cake"},
            }
        )
        conversation = await open_conversation(channel="wechat", sender=OPENID)
        await say(conversation, "hi", capabilities=WECHAT_LINKS, channel="wechat", sender=OPENID)
        member = (await conversation_row(conversation))["member"]
        await ledger.earn(member, 100, key="seed")
        [listed] = await say(
            conversation, "rewards", capabilities=WECHAT_LINKS, channel="wechat", sender=OPENID
        )
        step = (await conversation_row(conversation))["state"]["now"]
    assert listed.choices == ()
    [(number, url, title)] = LINE.findall(listed.text)
    assert (number, title) == ("1", "Cake ‹b›")  # a name cannot open a tag of its own
    assert url.endswith(f"/rewards/{cake.id}") and "/w/" in url
    assert step["options"] == {"1": f"reward:{cake.id}"}

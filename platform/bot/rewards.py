"""Rewards in the chat: the list, the choice, the confirm step, the coupon, "my coupons".

The redemption's idempotency key is made when the member chooses a reward, from that
message's provider id (``chat:<channel>:<provider id>``), and kept in the confirm step. So
every "yes" to that question (a double tap, a replayed webhook, two workers at once)
redeems with the same key: ``rewards.service.redeem`` makes one grant and one debit, and
answers the others with the same grant. After the redemption the step becomes
``redeemed``, so a later "yes" shows that grant again instead of a second coupon.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date

from loyalchat import db, i18n
from loyalchat.bot import texts
from loyalchat.bot.chat import Chat
from loyalchat.bot.replies import Reply
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.channels import Choice
from loyalchat.media import store
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.rewards import codes
from loyalchat.rewards import service as rewards
from loyalchat.rewards.qr import qr_png
from loyalchat.rewards.schemas import GrantOut
from loyalchat.texts import pick

MAX_KEY = 200  # rewards.redeem's limit on a key


def redeem_key(channel: str, provider_id: str) -> str:
    """The redemption key of a choice made by the message ``provider_id``."""
    key = f"chat:{channel}:{provider_id}"
    if len(key) <= MAX_KEY:
        return key
    return f"chat:{channel}:sha256:{hashlib.sha256(provider_id.encode()).hexdigest()}"


def _points(value: int) -> str:
    return f"{value:,}"


async def show(chat: Chat) -> list[Reply]:
    """The rewards the member can redeem now, as choices ``reward:<id>``."""
    now = datetime.now(UTC)
    found = await rewards.list_rewards(available_at=now, limit=100)
    available = [reward for reward in found.items if reward.available(now)]
    points = chat.member.points
    if not available:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.REWARDS_EMPTY))]
    affordable = [reward for reward in available if reward.points_cost <= points]
    if not affordable:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.REWARDS_NONE, points=_points(points)))]
    choices = [
        Choice(
            id=f"reward:{reward.id}",
            title=pick(reward.name, chat.locale),
            description=chat.say(texts.REWARD_COST, cost=_points(reward.points_cost)),
        )
        for reward in affordable
    ]
    question = chat.say(texts.REWARDS_HEADER, points=_points(points))
    pages: dict[str, str] = {}
    wallet = ""
    if chat.with_text_links:  # each reward a link to its page in the member's wallet
        wallet = await links.wallet_url(chat.member.id, chat.shop)
        pages = {f"reward:{reward.id}": f"{wallet}/rewards/{reward.id}" for reward in affordable}
    reply, options = chat.offer(
        question, choices, pages=pages, all_url=f"{wallet}/rewards" if wallet else ""
    )
    await chat.wait_for({"step": "pick", "options": options})
    return [reply]


async def confirm(chat: Chat, reward_id: int) -> list[Reply]:
    """The confirm step for one reward of this shop (another shop's id is "not found")."""
    try:
        reward = await rewards.get_reward(reward_id)
    except NotFound:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.NO_SUCH_REWARD))]
    if not reward.available(datetime.now(UTC)):
        await chat.wait_for_nothing()
        sold_out = reward.stock is not None and reward.stock <= 0
        code = "out_of_stock" if sold_out else "reward_unavailable"
        return [Reply(text=chat.say(texts.REDEEM_ERRORS[code]))]
    points = chat.member.points
    if points < reward.points_cost:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.REDEEM_ERRORS["insufficient_points"]))]
    question = chat.say(
        texts.CONFIRM,
        name=pick(reward.name, chat.locale),
        cost=_points(reward.points_cost),
        after=_points(points - reward.points_cost),
    )
    choices = [
        Choice(id="confirm:yes", title=chat.say(texts.YES)),
        Choice(id="confirm:no", title=chat.say(texts.NO)),
    ]
    reply, options = chat.offer(question, choices, hint=texts.YES_NO_HINT)
    key = redeem_key(chat.turn.channel, chat.turn.event.provider_id)
    await chat.wait_for({"step": "confirm", "reward": reward.id, "key": key, "options": options})
    return [reply]


async def answer(chat: Chat, yes: bool) -> list[Reply] | None:
    """ "Yes" or "no" to the confirm step; None when no confirm step is pending."""
    step: dict[str, Any] = dict(chat.seen)
    if step.get("step") == "redeemed" and yes:
        grant = await rewards.grant_by_key(step["key"], locale=chat.locale)
        return await _granted(chat, grant) if grant is not None else None
    if step.get("step") != "confirm":
        return None
    if not yes:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.CANCELLED))]
    try:
        grant = await _redeem(chat.member.id, int(step["reward"]), step["key"])
    except DomainError as exc:
        await chat.wait_for_nothing()
        message = texts.REDEEM_ERRORS.get(exc.code, texts.REDEEM_FAILED)
        return [Reply(text=chat.say(message))]
    await chat.wait_for({"step": "redeemed", "key": step["key"]})
    return await _granted(chat, grant)


async def _redeem(member_id: int, reward_id: int, key: str) -> GrantOut:
    """``rewards.redeem`` in a transaction of its own, as the wallet calls it.

    The core answers an event inside one transaction. ``rewards.redeem`` joined to a
    caller's transaction cannot roll back its own refusal (the grant row it inserted
    before the balance check would be found by its key and answered as a replay, with no
    debit), so it runs detached: committed on its own, once per key. If the turn's
    transaction then fails, the event is answered again from the same step and the key
    replays the grant.
    """
    engine = db.current_engine()
    if engine.current_transaction.get() is None:
        return await rewards.redeem(member_id, reward_id, key=key)
    context = contextvars.copy_context()
    context.run(engine.current_transaction.set, None)
    task = asyncio.get_running_loop().create_task(
        rewards.redeem(member_id, reward_id, key=key), context=context
    )
    return await task


async def _granted(chat: Chat, grant: GrantOut) -> list[Reply]:
    """The grant in the chat: what it is, its code, its QR code as an image, the wallet."""
    member = await members.get_member_by_id(chat.member.id)  # the balance after the debit
    lines = [
        chat.say(
            texts.REDEEMED,
            name=pick(grant.reward_name, chat.locale),
            points=_points(member.points),
        )
    ]
    if grant.description:
        lines.append(grant.description)
    shown = grant.display
    if shown.code:
        lines.append(chat.say(texts.COUPON_CODE, code=codes.display(shown.code)))
    url = await links.wallet_url(member.id, chat.shop)
    lines.append(chat.say(texts.WALLET_LINK, url=url))
    replies = [Reply(text="\n".join(lines))]
    if shown.qr and shown.code and chat.with_images and grant.status == "issued":
        key = await store.save(qr_png(shown.code), kind="coupon_qr")
        replies.append(Reply(text=codes.display(shown.code), image_key=key))
    return replies


async def coupons(chat: Chat) -> list[Reply]:
    """The member's grants ready to use, newest first, with the wallet link."""
    await chat.wait_for_nothing()
    grants = await rewards.member_grants(chat.member.id, "issued", locale=chat.locale, limit=20)
    if not grants:
        return [Reply(text=chat.say(texts.COUPONS_NONE))]
    lines = [chat.say(texts.COUPONS_HEADER)]
    zone = i18n.zone(chat.shop.timezone)
    for grant in grants:
        name = pick(grant.reward_name, chat.locale)
        code = codes.display(grant.display.code or grant.code)
        if grant.expires_at is None:
            lines.append(chat.say(texts.COUPON_LINE, name=name, code=code))
        else:
            day = grant.expires_at.astimezone(zone).date()
            date = format_date(day, "medium", locale=i18n.babel_locale(chat.locale))
            lines.append(chat.say(texts.COUPON_LINE_UNTIL, name=name, code=code, date=date))
    url = await links.wallet_url(chat.member.id, chat.shop)
    lines.append(chat.say(texts.WALLET_LINK, url=url))
    return [Reply(text="\n".join(lines))]

"""The demo tenant's programme: an earning rule, a campaign, rewards and a few members.

Seeded once, when the demo tenant has no earning rules yet, so a newcomer's console shows
a programme at work: members with points, a history spread over the last month (the
dashboard's charts), coupons to redeem, each reward with
a picture drawn for it (:mod:`loyalchat.commands.demo_pictures`). Every text a member or
the staff read (rule names, reward names and descriptions, coupon benefits and terms) is
in Traditional Chinese, Simplified Chinese and English; a demo seeded before that gets
its texts in the three languages on the next run.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from loyalchat.commands.demo_pictures import add_demo_pictures
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate, MemberOut
from loyalchat.purchases import service as purchases
from loyalchat.rewards import service as rewards
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate, RuleUpdate
from loyalchat.rules.tables import RuleKind
from loyalchat.tenants.service import current_tenant

BASE_RULE = {"zh-Hant": "每 HK$1 得 1 分", "zh-Hans": "每 HK$1 得 1 分", "en": "HK$1 = 1 point"}
WEEKEND_RULE = {"zh-Hant": "週末雙倍積分", "zh-Hans": "周末双倍积分", "en": "Weekend double points"}
COFFEE = {
    "name": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"},
    "description": {
        "zh-Hant": "任何一杯手沖咖啡",
        "zh-Hans": "任何一杯手冲咖啡",
        "en": "Any hand-drip coffee",
    },
    "options": {
        "benefit": {"zh-Hant": "免費咖啡一杯", "zh-Hans": "免费咖啡一杯", "en": "One free coffee"},
        "terms": {
            "zh-Hant": "每次光顧限用一張",
            "zh-Hans": "每次光顾限用一张",
            "en": "One per visit",
        },
    },
}
DISCOUNT = {
    "name": {"zh-Hant": "HK$20 折扣券", "zh-Hans": "HK$20 折扣券", "en": "HK$20 off"},
    "description": {
        "zh-Hant": "消費滿 HK$100 即減 HK$20",
        "zh-Hans": "消费满 HK$100 即减 HK$20",
        "en": "HK$20 off a bill of HK$100 or more",
    },
    "options": {
        "benefit": {"zh-Hant": "減 HK$20", "zh-Hans": "减 HK$20", "en": "HK$20 off"},
        "terms": {
            "zh-Hant": "單張賬單滿 HK$100 適用",
            "zh-Hans": "单张账单满 HK$100 适用",
            "en": "On a bill of HK$100 or more",
        },
    },
}
STORED_VALUE = {
    "name": {
        "zh-Hant": "HK$50 會員卡金額",
        "zh-Hans": "HK$50 会员卡余额",
        "en": "HK$50 stored value",
    },
    "description": {
        "zh-Hant": "HK$50 存入會員卡，下次消費時使用",
        "zh-Hans": "HK$50 存入会员卡，下次消费时使用",
        "en": "HK$50 on your member card for your next visit",
    },
}
# What a demo seeded before the three languages says (its English), and what it becomes.
_RULES_BEFORE = {"HK$1 = 1 point": BASE_RULE, "Weekend double points": WEEKEND_RULE}
_REWARDS_BEFORE = {"Free coffee": COFFEE, "HK$20 off": DISCOUNT, "HK$50 stored value": STORED_VALUE}

# Each member's purchases as (days ago, amount): the dashboard's 30-day charts show a month
# of activity, not one day. A member joins on the day of their first purchase.
DEMO_MEMBERS = (
    ("陳大文", "9123 4567", ((26, "128.50"), (12, "86.00"), (3, "342.80"))),
    ("Wong Siu Ming", "6123 4567", ((19, "58.00"), (0, "1250.00"))),
    ("李嘉欣", "5123 4567", ((7, "33.50"),)),
)
OPENED_DAYS_AGO = 28  # the rules and rewards were set up before the first purchase
REDEEMED_DAYS_AGO = 1  # 陳大文's free coffee: its coupon (30 days) is still good


async def ensure_demo_programme() -> bool:
    """Seed the current (demo) tenant's programme if it has none; True when it seeded."""
    if await rules.list_rules():
        await add_demo_pictures()  # a demo seeded before the rewards had pictures
        await _texts_in_three_languages()  # ... or before its texts had three languages
        return False
    tz = ZoneInfo((await current_tenant()).timezone)
    with _back_in_time(OPENED_DAYS_AGO, 9, tz):
        coffee_id = await _programme()
    await _members_over_the_last_month(coffee_id, tz)
    await members.create_member()  # joined by a scan only (today): unverified
    await add_demo_pictures()
    return True


async def _programme() -> int:
    """The earning rules and rewards; the free coffee's id."""
    await rules.create_rule(
        RuleCreate(name=BASE_RULE, kind=RuleKind.ratio, points_per_unit=Decimal(1))
    )
    await rules.create_rule(
        RuleCreate(
            name=WEEKEND_RULE,
            kind=RuleKind.campaign,
            multiplier=Decimal(2),
            weekdays=[6, 7],
            starts_on=date.today(),
            ends_on=date.today() + timedelta(days=90),
        )
    )
    coffee = await rewards.create_reward(
        {**COFFEE, "points_cost": 150, "type": "coupon", "stock": 50, "validity_days": 30}
    )
    await rewards.create_reward(
        {**DISCOUNT, "points_cost": 200, "type": "coupon", "validity_days": 60}
    )
    await rewards.create_reward(
        {
            **STORED_VALUE,
            "points_cost": 500,
            "type": "stored_value",
            "options": {"amount": "50.00"},
            "per_member_limit": 1,
        }
    )
    return coffee.id


async def _members_over_the_last_month(coffee_id: int, tz: ZoneInfo) -> None:
    """Each demo member joins, buys and redeems on their day through the services, the
    clock set back to that day (time_machine), oldest first: the ledger is appended in
    time order and every figure (points of the day, lots, expiries) is that day's."""
    steps: list[tuple[int, int, int, str, str]] = []  # (days ago, hour, member, what, amount)
    for index, (_, _, bought) in enumerate(DEMO_MEMBERS):
        steps.append((bought[0][0], 10 + index, index, "join", ""))
        steps += [(days, 12 + index, index, "buy", amount) for days, amount in bought]
    steps.append((REDEEMED_DAYS_AGO, 16, 0, "redeem", ""))
    made: dict[int, MemberOut] = {}
    bought_so_far: dict[int, int] = {}
    for days, hour, index, what, amount in sorted(steps, key=lambda s: (-s[0], s[1])):
        with _back_in_time(days, hour, tz):
            if what == "join":
                name, phone, _ = DEMO_MEMBERS[index]
                made[index] = await members.create_member(MemberCreate(name=name, phone=phone))
            elif what == "buy":
                member = made[index]
                n = bought_so_far[index] = bought_so_far.get(index, 0) + 1
                await purchases.record_purchase(
                    member.id, Decimal(amount), reference=f"DEMO-{member.member_no}-{n}"
                )
            else:
                member = made[index]
                await rewards.redeem(member.id, coffee_id, key=f"demo:{member.member_no}")


def _back_in_time(days: int, hour: int, tz: ZoneInfo) -> contextlib.AbstractContextManager[Any]:
    """The clock at ``hour`` o'clock (shop time) ``days`` ago; today: the real time."""
    if days <= 0:
        return contextlib.nullcontext()
    day = datetime.now(tz).date() - timedelta(days=days)
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=tz), tick=True)


async def _texts_in_three_languages() -> None:
    """Give the demo's own rules and rewards, as a demo seeded before the three languages
    left them (English names, one-language coupon texts), their texts in all three."""
    for rule in await rules.list_rules():
        texts = _RULES_BEFORE.get(rule.name.get("en", ""))
        if texts is not None and not rule.name.get("zh-Hant"):
            await rules.update_rule(rule.id, RuleUpdate(name=texts))
    for reward in (await rewards.list_rewards(limit=200)).items:
        texts = _REWARDS_BEFORE.get(reward.name.get("en", ""))
        benefit = reward.options.get("benefit")
        if texts is None or (reward.description.get("zh-Hans") and not isinstance(benefit, str)):
            continue
        change = {"description": texts["description"]}
        if "options" in texts and reward.type == "coupon":
            change["options"] = texts["options"]
        await rewards.update_reward(reward.id, change)

"""The demo tenant's programme: an earning rule, a campaign, rewards and a few members.

Seeded once, when the demo tenant has no earning rules yet, so a newcomer's console shows
a programme at work: members with points, a history, coupons to redeem, each reward with
a picture drawn for it (:mod:`loyalchat.commands.demo_pictures`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from loyalchat.commands.demo_pictures import add_demo_pictures
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.purchases import service as purchases
from loyalchat.rewards import service as rewards
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind

DEMO_MEMBERS = (
    ("陳大文", "9123 4567", ("128.50", "86.00", "342.80")),
    ("Wong Siu Ming", "6123 4567", ("58.00", "1250.00")),
    ("李嘉欣", "5123 4567", ("33.50",)),
)


async def ensure_demo_programme() -> bool:
    """Seed the current (demo) tenant's programme if it has none; True when it seeded."""
    if await rules.list_rules():
        await add_demo_pictures()  # a demo seeded before the rewards had pictures
        return False
    await rules.create_rule(
        RuleCreate(name="HK$1 = 1 point", kind=RuleKind.ratio, points_per_unit=Decimal(1))
    )
    await rules.create_rule(
        RuleCreate(
            name="Weekend double points",
            kind=RuleKind.campaign,
            multiplier=Decimal(2),
            weekdays=[6, 7],
            starts_on=date.today(),
            ends_on=date.today() + timedelta(days=90),
        )
    )
    coffee = await rewards.create_reward(
        {
            "name": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"},
            "description": {"zh-Hant": "任何一杯手沖咖啡", "en": "Any hand-drip coffee"},
            "points_cost": 150,
            "type": "coupon",
            "options": {"benefit": "Free coffee 免費咖啡", "terms": "One per visit"},
            "stock": 50,
            "validity_days": 30,
        }
    )
    await rewards.create_reward(
        {
            "name": {"zh-Hant": "HK$20 折扣券", "zh-Hans": "HK$20 折扣券", "en": "HK$20 off"},
            "points_cost": 200,
            "type": "coupon",
            "options": {"benefit": "HK$20 off a bill of HK$100 or more"},
            "validity_days": 60,
        }
    )
    await rewards.create_reward(
        {
            "name": {
                "zh-Hant": "HK$50 會員卡金額",
                "zh-Hans": "HK$50 会员卡余额",
                "en": "HK$50 stored value",
            },
            "points_cost": 500,
            "type": "stored_value",
            "options": {"amount": "50.00"},
            "per_member_limit": 1,
        }
    )
    for name, phone, amounts in DEMO_MEMBERS:
        member = await members.create_member(MemberCreate(name=name, phone=phone))
        for n, amount in enumerate(amounts, start=1):
            await purchases.record_purchase(
                member.id, Decimal(amount), reference=f"DEMO-{member.member_no}-{n}"
            )
        if name == DEMO_MEMBERS[0][0]:
            await rewards.redeem(member.id, coffee.id, key=f"demo:{member.member_no}")
    await members.create_member()  # joined by a scan only: unverified
    await add_demo_pictures()
    return True

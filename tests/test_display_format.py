"""How the console and the wallet show moments and coupon codes: to the minute (no
seconds), in the reader's language and the shop's time zone; codes as ``ABCD-EFGH``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from loyalchat import i18n
from loyalchat.context import tenant_context
from loyalchat.frontend.pages.common.display import Display
from loyalchat.rewards import codes
from loyalchat.rewards import service as rewards
from tests.console_helpers import login, open_client
from tests.fixtures import World
from tests.wallet_helpers import STAFF, make_coupon, make_member

MOMENT = datetime(2026, 12, 3, 16, 52, 54, tzinfo=UTC)  # 00:52:54 on Dec 4 in Hong Kong
SECONDS = re.compile(r"\d:\d\d:\d\d")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Dec 4, 2026, 12:52\u202fAM"),
        ("zh-Hant", "2026年12月4日 凌晨12:52"),
        ("zh-Hans", "2026年12月4日 00:52"),
    ],
)
def test_moments_show_minutes_not_seconds(locale: str, expected: str) -> None:
    shown = Display(locale=locale, currency="HKD", timezone="Asia/Hong_Kong").when(MOMENT)
    assert shown == expected
    assert not SECONDS.search(shown)
    # The same helper serves the API's messages and the templates' `datetime` filter.
    assert i18n.format_datetime(MOMENT, locale, "Asia/Hong_Kong") == expected


def test_the_shops_time_zone_and_edge_cases() -> None:
    london = Display(locale="en", currency="GBP", timezone="Europe/London")
    assert london.when(MOMENT) == "Dec 3, 2026, 4:52\u202fPM"
    assert london.when(MOMENT.isoformat()) == london.when(MOMENT)
    assert london.when(None) == "" and london.when("") == ""
    assert i18n.format_datetime(datetime.max, "en") == "9999-12-31"  # PostgreSQL's infinity


def test_coupon_codes_read_the_same_everywhere() -> None:
    fmt = Display(locale="zh-Hant", currency="HKD", timezone="Asia/Hong_Kong")
    assert fmt.code("927HRSAD") == "927H-RSAD" == codes.display("927HRSAD")
    assert codes.normalize(fmt.code("927HRSAD")) == "927HRSAD"  # typed back as shown
    assert fmt.code(None) == "" and fmt.code("") == ""
    assert fmt.code("SHORT") == "SHORT"  # not a code of ours: shown as stored


async def test_the_audit_log_and_the_coupon_check_read_codes_as_the_wallet_does(
    tenant_a: World,
) -> None:
    member = await make_member(tenant_a, 500)
    reward = await make_coupon(tenant_a, cost=100)
    with tenant_context(tenant_a.id, STAFF):
        grant = await rewards.redeem(member.id, reward.id, key="audit-code")
        await rewards.use_grant(grant.code)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/audit")
        grants = await client.get(f"/console/rewards/{reward.id}/grants")
        await client.get("/lang/zh-Hant", params={"next": "/console"})
        check = await client.get("/console/coupons", params={"code": grant.code})
    shown = f"{grant.code[:4]}-{grant.code[4:]}"
    assert page.status_code == 200 and shown in page.text
    assert f'<code data-testid="grant-code">{shown}</code>' in grants.text
    assert not SECONDS.search(re.sub(r"<[^>]+>", " ", grants.text))
    # The coupon check says what the coupon gives once, without a label repeating "coupon".
    assert check.status_code == 200 and check.text.count("優惠券：免費咖啡一杯") == 1
    assert "優惠內容" not in check.text and shown in check.text

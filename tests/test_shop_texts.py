"""Shop texts in the reader's language: a coupon's benefit and terms and an earning rule's
name have a Traditional Chinese, Simplified Chinese and English variant; the other
Chinese script is made with OpenCC; texts stored as one plain string still show."""

from __future__ import annotations

import html
import importlib
import re
from decimal import Decimal

import pytest

from loyalchat import db
from loyalchat.domain import DomainError
from loyalchat.rewards import service as rewards
from loyalchat.rewards import text
from loyalchat.rewards.tables import Reward
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate, RuleUpdate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import scoped_update
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World, make_world
from tests.wallet_helpers import make_member, path_of

COFFEE = {"zh-Hant": "免費咖啡一杯", "en": "One free coffee"}
TERMS = {"zh-Hans": "每次光顾限用一张", "en": "One per visit"}
MIGRATION = "loyalchat.rules.piccolo_migrations.rules_2026_12_04t16_30_00_000000"


def visible(page: str) -> str:
    """The page's text as a reader sees it (no tags, scripts or attributes)."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_clean_fills_the_missing_chinese_script_and_pick_reads_plain_strings() -> None:
    assert text.clean({"zh-Hant": "會員優惠"}) == {
        "zh-Hant": "會員優惠",
        "zh-Hans": "会员优惠",
        "en": "",
    }
    assert text.clean("会员优惠")["zh-Hant"] == "會員優惠"  # a plain string: its one language
    assert text.clean("Members only") == {"zh-Hant": "", "zh-Hans": "", "en": "Members only"}
    with pytest.raises(ValueError, match="at most 5"):
        text.clean({"en": "too long"}, max_length=5)
    assert text.pick("免費咖啡", "zh-Hans") == "免费咖啡"  # stored before: in the reader's script
    assert text.pick("Free coffee", "zh-Hant") == "Free coffee"


async def test_coupon_benefit_and_terms_in_three_languages(tenant_a: World) -> None:
    member = await make_member(tenant_a, 500)
    with as_owner(tenant_a):
        reward = await rewards.create_reward(
            {
                "name": {"zh-Hant": "免費咖啡", "en": "Free coffee"},
                "points_cost": 100,
                "type": "coupon",
                "options": {"benefit": COFFEE, "terms": TERMS},
            }
        )
        grant = await rewards.redeem(member.id, reward.id, key="texts-1")
        seen = {
            locale: (await rewards.get_grant(grant.code, locale=locale)).description
            for locale in ("zh-Hant", "zh-Hans", "en")
        }
        plain = await rewards.create_reward(
            {"name": "Cake", "points_cost": 1, "type": "coupon", "options": {"benefit": "蛋糕"}}
        )
    assert reward.options["benefit"] == {**COFFEE, "zh-Hans": "免费咖啡一杯"}
    assert reward.options["terms"] == {**TERMS, "zh-Hant": "每次光顧限用一張"}
    assert seen == {
        "zh-Hant": "優惠券：免費咖啡一杯（每次光顧限用一張）",
        "zh-Hans": "优惠券：免费咖啡一杯（每次光顾限用一张）",
        "en": "Coupon: One free coffee (One per visit)",
    }
    # A plain string from an API caller: stored as the one language it is written in.
    assert plain.options["benefit"] == {"zh-Hant": "蛋糕", "zh-Hans": "蛋糕", "en": ""}


async def test_a_coupon_without_a_benefit_in_any_language_is_refused(tenant_a: World) -> None:
    with as_owner(tenant_a):
        for benefit in ({"zh-Hant": " ", "en": ""}, {"fr": "Café"}, {"en": "x" * 501}):
            with pytest.raises(DomainError) as refused:
                await rewards.create_reward(
                    {
                        "name": "Tea",
                        "points_cost": 1,
                        "type": "coupon",
                        "options": {"benefit": benefit},
                    }
                )
            assert refused.value.code == "invalid_reward"
            assert "options" in refused.value.extra["errors"]


async def test_old_plain_string_coupon_options_still_show(tenant_a: World, tenant_b: World) -> None:
    member = await make_member(tenant_a, 500, locale="zh-Hans")
    with as_owner(tenant_a):
        reward = await rewards.create_reward(
            {"name": "免費咖啡", "points_cost": 100, "type": "coupon", "options": {"benefit": "x"}}
        )
        # A row saved before options had three languages.
        await scoped_update(
            Reward, {Reward.options: {"benefit": "免費咖啡", "terms": "只限堂食"}}
        ).where(Reward.id == reward.id)
        grant = await rewards.redeem(member.id, reward.id, key="old-1")
        hans = await rewards.get_grant(grant.code, locale="zh-Hans")
    assert hans.description == "优惠券：免费咖啡（只限堂食）"
    async with open_client() as client:
        catalogue = await client.get(path_of(tenant_a, member) + "/rewards")
        mine = await client.get(path_of(tenant_a, member) + "/mine")
        await login(client, tenant_a.owner.email)
        form = await client.get(f"/console/rewards/{reward.id}")
        check = await client.get("/console/coupons", params={"code": grant.code})
    assert catalogue.status_code == 200 and mine.status_code == 200
    assert "免费咖啡" in visible(catalogue.text)
    assert "优惠券：免费咖啡（只限堂食）" in visible(mine.text)
    # The console form shows the old text in its language, ready for the other two.
    assert 'name="opt_coupon__benefit_zh_Hant"' in form.text
    assert re.search(r'name="opt_coupon__benefit_zh_Hant"[^>]*value="免費咖啡"', form.text)
    assert "免費咖啡" in visible(check.text)
    # Another shop's coupon check knows nothing of this code.
    async with open_client() as client:
        await login(client, tenant_b.owner.email)
        foreign = await client.get("/console/coupons", params={"code": grant.code})
    assert foreign.status_code == 404 and "免費咖啡" not in visible(foreign.text)


async def test_the_reward_form_takes_each_language_and_fills_the_other_script(
    tenant_a: World,
) -> None:
    form = {
        "name_zh_Hant": "免費咖啡",
        "name_zh_Hans": "",
        "name_en": "Free coffee",
        "points_cost": "100",
        "type": "coupon",
        "opt_coupon__benefit_zh_Hant": "免費咖啡一杯",
        "opt_coupon__benefit_zh_Hans": "",
        "opt_coupon__benefit_en": "One free coffee",
        "opt_coupon__terms_zh_Hant": "",
        "opt_coupon__terms_zh_Hans": "",
        "opt_coupon__terms_en": "",
        "position": "0",
        "active": "1",
    }
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        new = await client.get("/console/rewards/new")
        form["token"] = re.search(r'name="token" value="([^"]+)"', new.text).group(1)
        created = await post_form(client, "/console/rewards", form)
        assert created.status_code == 303, created.text
        with as_owner(tenant_a):
            [reward] = (await rewards.list_rewards()).items
        edit = await client.get(f"/console/rewards/{reward.id}")
    assert reward.name["zh-Hans"] == "免费咖啡"
    assert reward.options["benefit"] == {
        "zh-Hant": "免費咖啡一杯",
        "zh-Hans": "免费咖啡一杯",
        "en": "One free coffee",
    }
    # The next edit shows the Simplified text that was made.
    assert re.search(r'name="opt_coupon__benefit_zh_Hans"[^>]*value="免费咖啡一杯"', edit.text)
    assert "Other languages" in edit.text


async def test_rule_names_in_three_languages(tenant_a: World) -> None:
    with as_owner(tenant_a):
        given_as_text = await rules.create_rule(
            RuleCreate(name="每週雙倍積分", kind=RuleKind.campaign, multiplier=Decimal(2))
        )
        given_as_dict = await rules.create_rule(
            RuleCreate(
                name={"zh-Hans": "消费一元得一分", "en": "HK$1 = 1 point"},
                kind=RuleKind.ratio,
                points_per_unit=Decimal(1),
            )
        )
        renamed = await rules.update_rule(given_as_text.id, RuleUpdate(name="Weekend double"))
        for name in ({"en": ""}, {"de": "Doppelt"}, {"en": "x" * 121}, {"en": "two\nlines"}):
            with pytest.raises(DomainError) as refused:
                await rules.create_rule(
                    RuleCreate(name=name, kind=RuleKind.ratio, points_per_unit=Decimal(1))
                )
            assert refused.value.extra.get("field") == "name"
    assert given_as_text.name == {"zh-Hant": "每週雙倍積分", "zh-Hans": "每周双倍积分", "en": ""}
    assert given_as_dict.name["zh-Hant"] == "消費一元得一分"
    assert renamed.name == {"zh-Hant": "", "zh-Hans": "", "en": "Weekend double"}


async def test_the_rule_form_and_list_show_the_readers_language(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        created = await post_form(
            client,
            "/console/rules",
            {
                "name_zh_Hant": "週末雙倍積分",
                "name_zh_Hans": "",
                "name_en": "Weekend double points",
                "kind": "campaign",
                "multiplier": "2",
                "active": "1",
            },
        )
        assert created.status_code == 303, created.text
        english = await client.get("/console/rules")
        await client.get("/lang/zh-Hans", params={"next": "/console/rules"})
        simplified = await client.get("/console/rules")
        with as_owner(tenant_a):
            [rule] = await rules.list_rules()
        edit = await client.get(f"/console/rules/{rule.id}")
        # Changing the Traditional name only: the Simplified one made from the old is made again.
        fields = dict(re.findall(r'<input[^>]*name="(name_[^"]+)"[^>]*value="([^"]*)"', edit.text))
        changed = await post_form(
            client,
            f"/console/rules/{rule.id}",
            {**fields, "name_zh_Hant": "週末三倍積分", "kind": "campaign", "multiplier": "3"},
        )
        assert changed.status_code == 303, changed.text
    assert "Weekend double points" in visible(english.text)
    assert "周末双倍积分" in visible(simplified.text)
    assert "Weekend double points" not in visible(simplified.text)
    assert fields["name_zh_Hans"] == "周末双倍积分" and fields["name_zh_Hans_was"] == "周末双倍积分"
    with as_owner(tenant_a):
        after = await rules.get_rule(rule.id)
    assert after.name == {
        "zh-Hant": "週末三倍積分",
        "zh-Hans": "周末三倍积分",
        "en": "Weekend double points",
    }


async def test_the_migration_turns_old_rule_names_into_three_languages(tenant_a: World) -> None:
    await _migrate_old_names(tenant_a)


@pytest.mark.sqlite
async def test_the_migration_on_sqlite(sqlite_db: object) -> None:
    await _migrate_old_names(await make_world("sqlite-shop"))


async def _migrate_old_names(tenant_a: World) -> None:
    """The rules migration's data step, run again on names stored the old way."""
    migration = importlib.import_module(MIGRATION)
    engine = db.current_engine()
    with as_owner(tenant_a):
        await rules.create_rule(RuleCreate(name="x", kind=RuleKind.ratio, points_per_unit=1))
    # Put the column back as it was (a one-language text) with two old names in it.
    await engine.run_ddl("ALTER TABLE earning_rule DROP COLUMN name")
    await engine.run_ddl(
        "ALTER TABLE earning_rule ADD COLUMN name VARCHAR(120) NOT NULL DEFAULT ''"
    )
    await engine.run_ddl("UPDATE earning_rule SET name = '週末雙倍積分'")
    await engine.run_ddl(
        "INSERT INTO earning_rule (tenant, name, kind, active, points_per_unit, rounding, "
        "step_points, multiplier, weekdays, created_at, updated_at) "
        "SELECT tenant, 'Base', kind, active, points_per_unit, rounding, step_points, "
        "multiplier, weekdays, created_at, updated_at FROM earning_rule"
    )
    manager = await migration.forwards()
    for step in manager.raw:
        await step()
    with as_owner(tenant_a):
        names = [rule.name for rule in await rules.list_rules()]
    assert names == [
        {"zh-Hant": "週末雙倍積分", "zh-Hans": "周末双倍积分", "en": ""},
        {"zh-Hant": "", "zh-Hans": "", "en": "Base"},
    ]


def _all_three(texts: object) -> bool:
    return isinstance(texts, dict) and all(texts.get(key) for key in ("zh-Hant", "zh-Hans", "en"))


async def test_the_demo_speaks_three_languages_and_upgrades_an_older_demo(
    tenant_a: World,
) -> None:
    from loyalchat.commands.demo_loyalty import ensure_demo_programme
    from loyalchat.rules.tables import EarningRule

    with as_owner(tenant_a):
        assert await ensure_demo_programme()
        demo_rules = await rules.list_rules()
        demo_rewards = (await rewards.list_rewards()).items
        assert demo_rules and all(_all_three(rule.name) for rule in demo_rules)
        for reward in demo_rewards:
            assert _all_three(reward.name) and _all_three(reward.description), reward.name
            if reward.type == "coupon":
                assert _all_three(reward.options["benefit"]) and _all_three(reward.options["terms"])
        # A demo seeded before: English rule names, one-language coupon texts.
        coffee = next(r for r in demo_rewards if r.name["en"] == "Free coffee")
        await scoped_update(
            Reward,
            {
                Reward.options: {"benefit": "Free coffee 免費咖啡", "terms": "One per visit"},
                Reward.description: {"zh-Hant": "任何一杯手沖咖啡", "en": "Any hand-drip coffee"},
            },
        ).where(Reward.id == coffee.id)
        await scoped_update(
            EarningRule, {EarningRule.name: {"zh-Hant": "", "zh-Hans": "", "en": "HK$1 = 1 point"}}
        ).where(EarningRule.id == demo_rules[0].id)
        assert not await ensure_demo_programme()
        coffee = await rewards.get_reward(coffee.id)
        base = await rules.get_rule(demo_rules[0].id)
    assert coffee.options["benefit"]["zh-Hant"] == "免費咖啡一杯"
    assert coffee.description["zh-Hans"] == "任何一杯手冲咖啡"
    assert _all_three(base.name)

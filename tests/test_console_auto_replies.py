"""The console's auto-replies pages through the real app: create, edit, delete, the
"try it" box (saved rules, and the form's rule before saving), errors in the summary,
a catastrophic regular expression, roles, two tenants and a suspended shop."""

from __future__ import annotations

import time

from loyalchat.conversations import autoreplies
from loyalchat.conversations.autoreplies import AutoReplyIn
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World

HOURS = {
    "match": "contains",
    "pattern": "營業時間",
    "reply_zh_Hant": "我們每天 9 時至 18 時營業。",
    "reply_zh_Hans": "",
    "reply_en": "We are open 9 to 6 every day.",
    "language": "",
    "priority": "5",
    "active": "1",
}


async def _rule(world: World, **fields) -> autoreplies.AutoReplyOut:
    with as_owner(world):
        return await autoreplies.create_auto_reply(AutoReplyIn(**fields))


async def _rules(world: World) -> list[autoreplies.AutoReplyOut]:
    with as_owner(world):
        return await autoreplies.list_auto_replies()


async def test_crud_and_try_it_in_traditional_chinese(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        await client.get("/lang/zh-Hant", params={"next": "/console/auto-replies"})
        empty = await client.get("/console/auto-replies")
        created = await post_form(client, "/console/auto-replies", HOURS)
        listing = await client.get("/console/auto-replies")
        # A member writing Simplified Chinese gets the Traditional rule's Simplified reply.
        tried = await post_form(
            client,
            "/console/auto-replies/try",
            {"sample": "请问营业时间？", "try_locale": "zh-Hans"},
            headers={"hx-request": "true"},
        )
        nothing = await post_form(
            client,
            "/console/auto-replies/try",
            {"sample": "hello", "try_locale": "zh-Hant"},
            headers={"hx-request": "true"},
        )
    assert empty.status_code == 200 and '<html lang="zh-Hant">' in empty.text
    assert 'href="/console/auto-replies/new?match=welcome"' in empty.text
    assert created.status_code == 303, created.text[:2000]
    assert "營業時間" in listing.text and 'data-testid="auto-reply-row"' in listing.text
    assert tried.status_code == 200 and "<html" not in tried.text
    assert "我们每天 9 时至 18 时营业。" in tried.text  # filled from the Traditional text
    assert 'data-testid="try-none"' in nothing.text
    (rule,) = await _rules(tenant_a)
    assert rule.reply["zh-Hans"] == "我们每天 9 时至 18 时营业。" and rule.priority == 5

    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        edit = await client.get(f"/console/auto-replies/{rule.id}")
        changed = await post_form(
            client,
            f"/console/auto-replies/{rule.id}",
            {**HOURS, "match": "exact", "pattern": "hours", "priority": "7", "active": ""},
        )
        deleted_form = await client.get(f"/console/auto-replies/{rule.id}")
    assert edit.status_code == 200 and 'value="營業時間"' in edit.text
    assert changed.status_code == 303 and deleted_form.status_code == 200
    (rule,) = await _rules(tenant_a)
    assert (rule.match, rule.pattern, rule.priority, rule.active) == ("exact", "hours", 7, False)

    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        gone = await post_form(client, f"/console/auto-replies/{rule.id}/delete")
        again = await client.get(f"/console/auto-replies/{rule.id}")
    assert gone.status_code == 303 and again.status_code == 404
    assert await _rules(tenant_a) == []


async def test_the_forms_rule_is_tried_before_saving(tenant_a: World) -> None:
    saved = await _rule(tenant_a, match="contains", pattern="hours", reply={"en": "Saved answer"})
    await _rule(tenant_a, match="default", reply={"en": "Sorry, ask us at the counter."})
    draft = {**HOURS, "match": "exact", "pattern": "opening hours", "reply_zh_Hant": ""}
    draft["reply_en"] = "Draft answer"
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        # A new rule with a higher priority answers before the saved one, though not saved.
        new = await post_form(
            client,
            "/console/auto-replies/try",
            {
                **draft,
                "priority": "50",
                "draft": "1",
                "sample": "Opening hours!",
                "try_locale": "en",
            },
            headers={"hx-request": "true"},
        )
        # Editing the saved rule: the draft replaces it (its old words no longer answer).
        edited = await post_form(
            client,
            "/console/auto-replies/try",
            {**draft, "auto_reply_id": str(saved.id), "draft": "1", "sample": "hours?"},
            headers={"hx-request": "true"},
        )
        # Without htmx the form page comes back with the values and the result.
        page = await post_form(
            client,
            "/console/auto-replies/try",
            {**draft, "draft": "1", "sample": "opening hours", "try_locale": "en"},
        )
    assert "Draft answer" in new.text and "not saved yet" in new.text
    assert "Sorry, ask us at the counter." in edited.text and "Saved answer" not in edited.text
    assert page.status_code == 200 and 'value="opening hours"' in page.text
    assert "Draft answer" in page.text and 'data-testid="auto-reply-form"' in page.text
    assert len(await _rules(tenant_a)) == 2  # trying saved nothing


async def test_problems_are_in_the_error_summary(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        bad_regex = await post_form(
            client, "/console/auto-replies", {**HOURS, "match": "regex", "pattern": "(unclosed"}
        )
        too_long = await post_form(
            client,
            "/console/auto-replies",
            {**HOURS, "pattern": "x" * 201, "reply_en": "y" * 1001, "priority": "5000"},
        )
        blank = await post_form(
            client,
            "/console/auto-replies",
            {**HOURS, "reply_zh_Hant": "", "reply_en": "", "priority": "abc"},
        )
        welcome_with_pattern = await post_form(
            client, "/console/auto-replies", {**HOURS, "match": "welcome"}
        )
        empty = await post_form(client, "/console/auto-replies", {})
        await client.get("/lang/zh-Hant", params={"next": "/console/auto-replies"})
        chinese = await post_form(
            client, "/console/auto-replies", {**HOURS, "match": "regex", "pattern": "[a-"}
        )
    for response in (bad_regex, too_long, blank, welcome_with_pattern, empty, chinese):
        assert response.status_code == 400, response.text[:500]
        assert 'data-testid="error-summary"' in response.text
    assert "not a regular expression" in bad_regex.text and "missing )" in bad_regex.text
    assert "At most 200 printable characters." in too_long.text
    assert "At most 1000 characters in each language." in too_long.text
    assert "A whole number from -1000 to 1000." in too_long.text
    assert "Write the reply in at least one language." in blank.text
    assert "Enter a whole number." in blank.text
    assert "has no pattern" in welcome_with_pattern.text
    assert "正規表示式" in chinese.text or "正則表達式" in chinese.text
    assert await _rules(tenant_a) == []


async def test_a_catastrophic_regex_is_skipped_in_time_with_a_clear_message(
    tenant_a: World,
) -> None:
    await _rule(tenant_a, match="regex", pattern="^(a+)+$", reply={"en": "never"})
    await _rule(tenant_a, match="default", reply={"en": "Default answer"})
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        started = time.monotonic()
        saved = await post_form(
            client,
            "/console/auto-replies/try",
            {"sample": "a" * 40 + "!", "try_locale": "en"},
            headers={"hx-request": "true"},
        )
        draft = await post_form(
            client,
            "/console/auto-replies/try",
            {
                **HOURS,
                "match": "regex",
                "pattern": "(x+x+)+y",
                "draft": "1",
                "sample": "x" * 40,
                "try_locale": "en",
            },
            headers={"hx-request": "true"},
        )
        elapsed = time.monotonic() - started
    for response in (saved, draft):
        assert response.status_code == 200
        assert 'data-testid="try-slow"' in response.text and "took too long" in response.text
        assert "Default answer" in response.text
    assert "^(a+)+$" in saved.text
    assert elapsed < 30


async def test_roles_two_tenants_and_a_suspended_shop(tenant_a: World, tenant_b: World) -> None:
    theirs = await _rule(tenant_b, match="contains", pattern="bravo", reply={"en": "Bravo only"})
    mine = await _rule(tenant_a, match="contains", pattern="alpha", reply={"en": "Alpha only"})
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        cashier_list = await client.get("/console/auto-replies")
        cashier_post = await post_form(client, "/console/auto-replies", HOURS)
    assert cashier_list.status_code == 403 and cashier_post.status_code == 403

    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        listing = await client.get("/console/auto-replies")
        read = await client.get(f"/console/auto-replies/{theirs.id}")
        write = await post_form(client, f"/console/auto-replies/{theirs.id}", HOURS)
        delete = await post_form(client, f"/console/auto-replies/{theirs.id}/delete")
        tried = await post_form(
            client,
            "/console/auto-replies/try",
            {**HOURS, "draft": "1", "auto_reply_id": str(theirs.id), "sample": "bravo"},
        )
        saved_only = await post_form(
            client, "/console/auto-replies/try", {"sample": "bravo"}, headers={"hx-request": "true"}
        )
    assert "bravo" not in listing.text and "alpha" in listing.text
    assert [r.status_code for r in (read, write, delete, tried)] == [404, 404, 404, 404]
    assert "Bravo only" not in saved_only.text
    assert [r.pattern for r in await _rules(tenant_b)] == ["bravo"]

    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="test")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/auto-replies")
        created = await post_form(client, "/console/auto-replies", HOURS)
        changed = await post_form(client, f"/console/auto-replies/{mine.id}", HOURS)
        deleted = await post_form(client, f"/console/auto-replies/{mine.id}/delete")
        tried = await post_form(
            client, "/console/auto-replies/try", {"sample": "alpha"}, headers={"hx-request": "true"}
        )
    assert page.status_code == 200
    assert [r.status_code for r in (created, changed, deleted)] == [403, 403, 403]
    assert tried.status_code == 200 and "Alpha only" in tried.text
    assert [r.pattern for r in await _rules(tenant_a)] == ["alpha"]


async def test_the_welcome_and_default_replies_are_their_own_entries(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        form = await client.get("/console/auto-replies/new", params={"match": "welcome"})
        for kind, text in (("welcome", "Welcome to Alpha Tea!"), ("default", "Ask us anything.")):
            saved = await post_form(
                client,
                "/console/auto-replies",
                {**HOURS, "match": kind, "pattern": "", "reply_zh_Hant": "", "reply_en": text},
            )
            assert saved.status_code == 303, saved.text[:1000]
        listing = await client.get("/console/auto-replies")
    assert '<option value="welcome" selected>' in form.text
    assert 'data-testid="new-welcome"' not in listing.text
    assert 'data-testid="new-default"' not in listing.text
    assert sorted(rule.match for rule in await _rules(tenant_a)) == ["default", "welcome"]


async def test_odd_inputs_are_answered_never_a_server_error(tenant_a: World) -> None:
    """Query strings and forms a person (or a script) could send to both consoles' pages."""
    from tests.isolation_objects import _conversation, _outbound_message

    conversation = await _conversation(tenant_a.id)
    message = await _outbound_message(tenant_a.id)
    gets = [
        "/console/conversations?member=abc",
        "/console/conversations?member=99999999999999&page=-4&channel=%00",
        "/console/conversations?page=99999999",
        f"/console/conversations/{conversation}",
        "/console/conversations/99999999999",
        "/console/auto-replies/new?match=%00",
        "/console/auto-replies/0",
    ]
    posts = [
        (f"/console/conversations/{conversation}/reply", {"token": "t" * 24, "text": "x" * 5000}),
        (f"/console/conversations/{conversation}/reply", {"token": "bad token", "text": "\x00"}),
        (f"/console/conversations/messages/{message}/retry", {}),
        ("/console/auto-replies", {"match": "regex", "pattern": "\x00(", "priority": "9" * 30}),
        ("/console/auto-replies", {**HOURS, "reply_en": "\x00", "language": "xx"}),
        ("/console/auto-replies/try", {"sample": "x" * 5000, "try_locale": "\x00"}),
        ("/console/auto-replies/try", {"draft": "1", "auto_reply_id": "abc", "sample": "hi"}),
        ("/console/auto-replies/try", {"draft": "1", "auto_reply_id": "99999999999999"}),
    ]
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        answers = [await client.get(path) for path in gets]
        answers += [await post_form(client, path, data) for path, data in posts]
    statuses = [answer.status_code for answer in answers]
    assert all(status < 500 for status in statuses), statuses

"""The receipt review queue in the console, on real rows and real pictures: the list with
its filters, counts and ages, one receipt with its photo, OCR boxes, checks and member,
roles, two tenants, a suspended shop, CSRF and bad input. (Decisions that credit points
and tell the member: tests/test_console_receipts_decide.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.console_helpers import form_tokens, login, open_client, post_form
from tests.fixtures import World
from tests.media_helpers import png
from tests.receipt_review_helpers import member_of, plant_receipt


def _ids(html: str, testid: str = "receipt-row") -> list[int]:
    return [int(n) for n in re.findall(rf'data-testid="{testid}" data-receipt-id="(\d+)"', html)]


async def test_the_queue_lists_receipts_to_review_oldest_first_with_age_and_counts(
    tenant_a: World, tenant_b: World
) -> None:
    member = await member_of(tenant_a.id, "Chan Tai Man")
    older = await plant_receipt(tenant_a.id, member.id, age=timedelta(hours=5))
    newer = await plant_receipt(
        tenant_a.id, member.id, age=timedelta(minutes=30), reasons=("too_old",), channel="webchat"
    )
    credited = await plant_receipt(tenant_a.id, member.id, status="credited", age=timedelta(days=2))
    other = await member_of(tenant_b.id, "Bravo Person")
    await plant_receipt(tenant_b.id, other.id)

    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get("/console/receipts")
        assert page.status_code == 200, page.text
        assert _ids(page.text) == [older, newer]
        assert _ids(page.text, "receipt-card") == [older, newer]
        assert re.search(r'data-testid="count-needs_review">2<', page.text)
        assert re.search(r'data-testid="count-credited">1<', page.text)
        assert re.search(r'data-testid="count-all">3<', page.text)
        assert "5 hr" in page.text and "30 min" in page.text  # the age of each
        assert "Chan Tai Man" in page.text and "Bravo Person" not in page.text
        assert "/console/media/" in page.text  # thumbnails

        done = await client.get("/console/receipts?status=credited")
        assert _ids(done.text) == [credited]
        by_reason = await client.get("/console/receipts?reason=too_old")
        assert _ids(by_reason.text) == [newer]
        by_channel = await client.get("/console/receipts?channel=whatsapp")
        assert _ids(by_channel.text) == [older]
        by_member = await client.get(f"/console/receipts?member_no={member.member_no.lower()}")
        assert _ids(by_member.text) == [older, newer]
        nobody = await client.get("/console/receipts?member_no=M999999")
        assert _ids(nobody.text) == [] and "No receipt matches" in nobody.text
        # Received today (the shop's day): both; until long ago: none.
        window = await client.get("/console/receipts?since=2000-01-01&until=2001-01-01")
        assert _ids(window.text) == []
        # Nonsense in every filter is ignored, never an error.
        junk = await client.get(
            "/console/receipts?status=x&reason=%25&channel=%27&member_no=%E2%80%AE&since=1e9&until=-1"
        )
        assert junk.status_code == 200 and _ids(junk.text) == [older, newer]
        # A NUL anywhere in a query string: the app's input guard answers 400.
        assert (await client.get("/console/receipts?member_no=%00")).status_code == 400

        home = await client.get("/console")
        assert "2 receipts to review" in home.text

    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        zh = await client.get("/lang/zh-Hant?next=/console/receipts", follow_redirects=True)
        assert zh.status_code == 200 and "小時" in zh.text


async def test_a_receipt_shows_photo_boxes_fields_checks_and_member(tenant_a: World) -> None:
    member = await member_of(tenant_a.id, "Chan Tai Man", phone="+85291234567")
    first = await plant_receipt(tenant_a.id, member.id, age=timedelta(hours=3))
    second = await plant_receipt(tenant_a.id, member.id, age=timedelta(hours=1), boxes=False)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/receipts/{first}")
        assert page.status_code == 200, page.text
        html = page.text
        for name in ("total", "date", "merchant"):
            assert f'data-testid="ocr-box-{name}"' in html
        assert 'data-testid="read-total">123.40' in html
        assert "55% sure" in html  # the total's confidence
        # The amount check's warning in words, with the shop's limit filled in.
        assert "Receipts over HK$100.00 are checked by the shop." in html
        assert f'href="/console/members/{member.id}"' in html and member.member_no in html
        assert 'data-testid="recent-receipts"' in html
        assert f'href="{"/console/receipts/" + str(second)}' in html  # next in the queue (j)
        assert 'data-testid="approve-form"' in html and 'value="123.40"' in html
        photo = re.search(r'data-testid="receipt-photo"', html)
        assert photo
        key = re.search(
            r'src="/console/media/([0-9a-f]{64})" alt="[^"]*" data-testid="receipt-photo"', html
        )
        assert key, "the photo is served from the shop's media route"
        picture = await client.get(f"/console/media/{key.group(1)}")
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"

        bare = await client.get(f"/console/receipts/{second}")
        assert 'data-testid="ocr-boxes"' not in bare.text and 'data-testid="no-boxes"' in bare.text

        zh = await client.get(
            f"/lang/zh-Hans?next=/console/receipts/{first}", follow_redirects=True
        )
        assert zh.status_code == 200 and "批准" in zh.text


async def test_another_shops_receipt_and_photo_are_not_found(
    tenant_a: World, tenant_b: World
) -> None:
    theirs = await member_of(tenant_b.id, "Bravo Person")
    receipt = await plant_receipt(
        tenant_b.id, theirs.id, photo=png((300, 200), "purple"), boxes=False
    )
    async with open_client() as client:
        await login(client, tenant_b.cashier.email)
        page = await client.get(f"/console/receipts/{receipt}")
        key = re.search(r'src="/console/media/([0-9a-f]{64})"', page.text).group(1)
        token = form_tokens(page.text)[0]
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        assert (await client.get(f"/console/receipts/{receipt}")).status_code == 404
        assert (await client.get(f"/console/media/{key}")).status_code == 404
        for action in ("approve", "reject", "ask"):
            sent = await post_form(
                client, f"/console/receipts/{receipt}/{action}", {"token": token, "reason": "other"}
            )
            assert sent.status_code == 404, (action, sent.status_code)
        assert (await client.get("/console/receipts/0")).status_code in (400, 404)
        assert (await client.get("/console/receipts/99999999999")).status_code in (400, 404)
    async with open_client() as client:
        await login(client, tenant_b.cashier.email)
        still = await client.get(f"/console/receipts/{receipt}")
        assert 'data-status="needs_review"' in still.text


async def test_a_receipt_still_being_read_cannot_be_decided_yet(tenant_a: World) -> None:
    member = await member_of(tenant_a.id)
    receipt = await plant_receipt(tenant_a.id, member.id, status="reading", boxes=False)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        assert _ids((await client.get("/console/receipts?status=all")).text) == []
        page = await client.get(f"/console/receipts/{receipt}")
        assert page.status_code == 200 and 'data-testid="in-flight"' in page.text
        assert 'data-testid="approve-form"' not in page.text
        token = form_tokens((await client.get(f"/console/receipts/{receipt}")).text)
        sent = await post_form(
            client,
            f"/console/receipts/{receipt}/approve",
            {"token": token[0] if token else "x" * 24, "amount": "10"},
        )
        assert sent.status_code == 303
        shown = await client.get(sent.headers["location"])
        assert "still being read" in shown.text


async def test_signed_out_and_csrf(tenant_a: World) -> None:
    member = await member_of(tenant_a.id)
    receipt = await plant_receipt(tenant_a.id, member.id)
    async with open_client() as client:
        out = await client.get("/console/receipts", follow_redirects=False)
        assert out.status_code in (302, 303, 401)
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/receipts/{receipt}")
        token = form_tokens(page.text)[0]
        # No CSRF token: refused before anything is read.
        bare = await client.post(
            f"/console/receipts/{receipt}/approve", data={"token": token}, follow_redirects=False
        )
        assert bare.status_code == 403
        again = await client.get(f"/console/receipts/{receipt}")
        assert 'data-status="needs_review"' in again.text


async def test_bad_amounts_dates_and_notes_are_explained(tenant_a: World) -> None:
    member = await member_of(tenant_a.id)
    receipt = await plant_receipt(tenant_a.id, member.id)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/receipts/{receipt}")
        token = form_tokens(page.text)[0]
        cases = {
            "abc": "Enter an amount such as 120.50.",
            "1e9": "Enter an amount such as 120.50.",
            "-5": "Enter an amount such as 120.50.",
            "12\x0034": "",  # a NUL: the app's input guard answers 400 first
            "0": "Enter an amount above zero.",
            "99999999999": "That amount is too large for a receipt.",
            "1.234": "At most two decimal places.",
        }
        for amount, message in cases.items():
            sent = await post_form(
                client, f"/console/receipts/{receipt}/approve", {"token": token, "amount": amount}
            )
            assert sent.status_code == 400, (amount, sent.status_code, sent.text[:300])
            assert message in sent.text, amount
            assert "Internal" not in sent.text
        for day in ("2026-02-30", "1899-01-01", "\x00"):
            sent = await post_form(
                client,
                f"/console/receipts/{receipt}/approve",
                {"token": token, "amount": "10", "receipt_date": day},
            )
            assert sent.status_code == 400, day
        noted = await post_form(
            client,
            f"/console/receipts/{receipt}/approve",
            {"token": token, "amount": "10", "note": "bad\x07note"},
        )
        assert noted.status_code == 400 and "control characters" in noted.text
        expired = await post_form(client, f"/console/receipts/{receipt}/approve", {"amount": "10"})
        assert expired.status_code == 400 and "The form has expired" in expired.text
        no_reason = await post_form(
            client, f"/console/receipts/{receipt}/reject", {"token": token, "reason": "nope"}
        )
        assert no_reason.status_code == 400 and "Choose a reason." in no_reason.text
        again = await client.get(f"/console/receipts/{receipt}")
        assert 'data-status="needs_review"' in again.text


async def test_a_suspended_shop_reads_the_queue_and_decides_nothing(tenant_a: World) -> None:
    member = await member_of(tenant_a.id)
    receipt = await plant_receipt(tenant_a.id, member.id)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="test")
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        listed = await client.get("/console/receipts")
        assert listed.status_code == 200 and _ids(listed.text) == [receipt]
        page = await client.get(f"/console/receipts/{receipt}")
        assert page.status_code == 200
        assert 'data-testid="approve-form"' not in page.text
        assert 'data-testid="read-only-note"' in page.text
        sent = await post_form(
            client, f"/console/receipts/{receipt}/approve", {"token": "x" * 24, "amount": "10"}
        )
        assert sent.status_code == 403

"""The console's receipt profile page through the real app: real OCR on drawn receipts and
a real photo, saving, bounds, bad uploads, roles, CSRF and the audit log."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import pytest

from loyalchat.receipts.checks.merchant import names_match
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.receipts.tables import ReceiptSettings
from loyalchat.tenants.tables import AuditLog
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.drawn_receipts import SHARED_RECEIPTS, as_bytes, draw_receipt
from tests.fixtures import World

PAGE = "/console/receipts/profile"
SHOP_LINES = ("DEMO CAFE", "示範咖啡", "Shop 3, 1 Main Street")


def receipt(*header: str, total: str = "123.40", on: date | None = None) -> bytes:
    day = (on or date.today()).isoformat()
    lines = (
        *header,
        f"Date {day} 12:30",
        "Latte x2      HK$ 60.00",
        f"TOTAL HK$ {total}",
        "Thank you",
    )
    return as_bytes(draw_receipt(lines))


def files(*photos: bytes, field: str = "photos") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(field, (f"r{n}.png", data, "image/png")) for n, data in enumerate(photos)]


def hidden(page: str, name: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'name="{name}" value="([^"]*)"', page)]


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name}"
    return html.unescape(found.group(1))


def settings_form(**overrides: str) -> dict[str, str]:
    form = {
        "names": "DEMO CAFE\n示範咖啡",
        "branches": "Causeway Bay",
        "total_labels": "TOTAL",
        "date_order": "",
        "pos_system": "",
        "currency": "HKD",
        "amount_low": "10",
        "amount_high": "2000",
        "qr_prefix": "",
        "window_days": "7",
        "review_limit": "1500",
        "confirm_below": "0.8",
        "ask_hours": "12",
        "review_hours": "24",
        "per_hour": "3",
        "per_day": "6",
    }
    form.update(overrides)
    return form


async def post_files(client, path: str, data: dict, upload: list) -> object:
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        path, data={**data, "_csrf_token": token}, files=upload, follow_redirects=False
    )


async def test_page_shows_the_current_profile_when_there_are_no_samples(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(PAGE)
        home = await client.get("/console")
    assert page.status_code == 200
    assert 'data-testid="no-samples"' in page.text
    assert 'accept="image/*" capture="environment"' in page.text
    assert 'name="window_days" type="text" value="7"' in page.text
    assert 'data-testid="nav-receipt-profile"' in home.text


async def test_drawn_samples_propose_the_printed_names_and_save_them(tenant_a: World) -> None:
    photos = [receipt(*SHOP_LINES, total="123.40"), receipt(*SHOP_LINES, total="58.00")]
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        proposed = await post_files(client, f"{PAGE}/samples", {"pos_system": ""}, files(*photos))
        assert proposed.status_code == 200, proposed.text[-2000:]
        names = textarea(proposed.text, "names").splitlines()
        keys = hidden(proposed.text, "sample_key")
        reads = hidden(proposed.text, "sample_read")
        shown = await client.get(f"/console/media/{keys[0]}")
        prepared = await client.get(f"/console/media/{json.loads(reads[0])['ocr_key']}")
        form = settings_form(names=textarea(proposed.text, "names"), window_days="10")
        saved = await post_form(client, PAGE, {**form, "sample_key": keys, "sample_read": reads})
        again = await client.get(PAGE)
    assert any(names_match(n, "DEMO CAFE") for n in names), names
    assert any(names_match(n, "示範咖啡") for n in names), names
    assert len(keys) == 2 and 'data-testid="sample"' in proposed.text
    assert "123.40" in proposed.text and "58.00" in proposed.text
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert prepared.status_code == 200 and prepared.headers["content-type"] == "image/png"
    assert saved.status_code == 303, saved.text[-2000:]
    assert again.text.count('data-testid="sample"') == 2
    with as_owner(tenant_a):
        rules = await get_receipt_settings()
        log = await AuditLog.select().where(AuditLog.action == "receipt_settings.set")
    assert rules.window_days == 10
    assert any(names_match(n, "DEMO CAFE") for n in rules.profile.merchant_names)
    assert rules.profile.hints["branches"] == ["Causeway Bay"]
    assert [s["key"] for s in rules.profile.hints["samples"]] == keys
    assert rules.profile.hints["samples"][0]["total"] in ("123.40", "58.00")
    assert len(log) == 1 and log[0]["tenant"] == tenant_a.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window_days", "0"),
        ("window_days", "1000"),
        ("window_days", "abc"),
        ("review_limit", "-1"),
        ("review_limit", "1e12"),
        ("review_limit", "1000000000000"),
        ("confirm_below", "2"),
        ("per_day", "99999999999999"),
        ("amount_low", "3000"),
        ("names", ""),
        ("currency", "dollars"),
    ],
)
async def test_bad_settings_are_refused_at_their_field(
    tenant_a: World, field: str, value: str
) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, PAGE, settings_form(**{field: value}))
    assert response.status_code == 400
    assert 'data-testid="error-summary"' in response.text
    assert f'data-field="{field}"' in response.text
    assert f'id="f-{field}-error"' in response.text
    with as_owner(tenant_a):
        assert await ReceiptSettings.count() == 0


async def test_bounds_are_named_in_the_message(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, PAGE, settings_form(window_days="1000", per_hour="0"))
    assert response.status_code == 400
    assert "A whole number from 1 to 90." in response.text
    assert "A whole number from 1 to 100." in response.text


async def test_a_nul_character_is_refused_and_nothing_saved(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, PAGE, settings_form(window_days="7\x00"))
        names = await post_form(client, PAGE, settings_form(names="DEMO\x00CAFE"))
    assert response.status_code == 400 and names.status_code == 400
    with as_owner(tenant_a):
        assert await ReceiptSettings.count() == 0


async def test_bad_uploads_get_a_clear_error(tenant_a: World) -> None:
    good = receipt("DEMO CAFE")
    oversized = b"\xff\xd8\xff\xe0" + b"\0" * (10 * 1024 * 1024 + 10)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        text = await post_files(
            client, f"{PAGE}/samples", {}, [("photos", ("notes.txt", b"hello", "text/plain"))]
        )
        big = await post_files(
            client, f"{PAGE}/samples", {}, [("photos", ("big.jpg", oversized, "image/jpeg"))]
        )
        six = await post_files(client, f"{PAGE}/samples", {}, files(*[good] * 6))
        mixed = await post_files(
            client, f"{PAGE}/samples", {}, [*files(good), ("photos", ("x.pdf", b"%PDF-1", "x"))]
        )
        none = await post_form(client, f"{PAGE}/samples", {})
    assert text.status_code == 400 and "This file is not a picture" in text.text
    assert big.status_code == 400 and "The picture is too large: at most 10 MB." in big.text
    assert six.status_code == 400 and "At most 5 photos at a time." in six.text
    assert (
        mixed.status_code == 400
        and "Photo 2: Pictures in this format are not accepted" in mixed.text
    )
    assert none.status_code == 400 and "Choose or take at least one photo" in none.text
    for response in (text, big, six, mixed):
        assert 'data-testid="samples-error"' in response.text
        assert 'data-testid="sample"' not in response.text


async def test_cashiers_can_neither_see_nor_change_the_profile(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(PAGE)
        saved = await post_form(client, PAGE, settings_form())
        read = await post_files(client, f"{PAGE}/samples", {}, files(b"x"))
        tried = await post_files(client, f"{PAGE}/try", {}, files(b"x", field="try_photo"))
        home = await client.get("/console")
    assert page.status_code == saved.status_code == read.status_code == 403
    assert tried.status_code == 403
    assert 'data-testid="nav-receipt-profile"' not in home.text
    with as_owner(tenant_a):
        assert await ReceiptSettings.count() == 0


async def test_csrf_is_enforced(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await client.post(PAGE, data=settings_form(), follow_redirects=False)
    assert response.status_code == 403
    with as_owner(tenant_a):
        assert await ReceiptSettings.count() == 0


async def test_another_shop_sees_neither_the_samples_nor_the_profile(
    tenant_a: World, tenant_b: World
) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        proposed = await post_files(
            client, f"{PAGE}/samples", {}, files(receipt("ALPHA TEA HOUSE"))
        )
        keys = hidden(proposed.text, "sample_key")
        reads = hidden(proposed.text, "sample_read")
        form = settings_form(names="ALPHA TEA HOUSE")
        saved = await post_form(client, PAGE, {**form, "sample_key": keys, "sample_read": reads})
    assert saved.status_code == 303 and len(keys) == 1
    async with open_client() as client:
        await login(client, tenant_b.owner.email)
        page = await client.get(PAGE)
        photo = await client.get(f"/console/media/{keys[0]}")
        prepared = await client.get(f"/console/media/{json.loads(reads[0])['ocr_key']}")
        # B posts A's sample keys as its own: they are not B's files, so they are dropped.
        form = settings_form(names="BETA BAKERY")
        taken = await post_form(client, PAGE, {**form, "sample_key": keys, "sample_read": reads})
    assert page.status_code == 200
    assert "ALPHA TEA HOUSE" not in page.text and keys[0] not in page.text
    assert photo.status_code == 404 and prepared.status_code == 404
    assert taken.status_code == 303
    with as_owner(tenant_b):
        rules_b = await get_receipt_settings()
    with as_owner(tenant_a):
        rules_a = await get_receipt_settings()
    assert rules_b.profile.merchant_names == ("BETA BAKERY",)
    assert rules_b.profile.hints["samples"] == []
    assert rules_a.profile.merchant_names == ("ALPHA TEA HOUSE",)


async def test_the_test_box_judges_a_receipt_with_the_profile_as_typed(tenant_a: World) -> None:
    ours = receipt("DEMO CAFE", "Shop 3, 1 Main Street")
    theirs = receipt("GOLDEN DRAGON RESTAURANT", "88 Nathan Road")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        token = client.cookies.get("lc_csrf", "")
        good = await client.post(
            f"{PAGE}/try",
            data={**settings_form(), "_csrf_token": token},
            files=files(ours, field="try_photo"),
            headers={"hx-request": "true"},
        )
        other = await post_files(
            client, f"{PAGE}/try", settings_form(), files(theirs, field="try_photo")
        )
        empty = await post_files(client, f"{PAGE}/try", settings_form(), [])
    assert good.status_code == 200 and "<html" not in good.text
    assert 'data-check="merchant" data-outcome="pass"' in good.text
    assert 'data-check="date" data-outcome="pass"' in good.text
    assert 'data-check="amount" data-outcome="pass"' in good.text
    assert other.status_code == 200
    # Another shop's name is never a pass (a drawn receipt's name is read too unsurely to
    # reject: it goes to review).
    assert re.search(r'data-check="merchant" data-outcome="(warn|fail)"', other.text)
    assert 'data-verdict="credited"' not in other.text
    assert "GOLDEN DRAGON RESTAURANT" in other.text
    assert empty.status_code == 400 and 'data-testid="try-error"' in empty.text
    with as_owner(tenant_a):
        assert await ReceiptSettings.count() == 0  # trying saves nothing


def shared_photo(name: str) -> tuple[bytes, str]:
    labels_path = SHARED_RECEIPTS / "labels.json"
    if not labels_path.is_file():
        pytest.fail(f"shared receipts not found at {SHARED_RECEIPTS}")
    labels = {Path(row["image"]).name: row for row in json.loads(labels_path.read_text())}
    row = labels[name]
    return (SHARED_RECEIPTS / row["image"]).read_bytes(), row["company"]


async def test_a_real_photo_proposes_the_printed_shop_name(tenant_a: World) -> None:
    data, company = shared_photo("sroie_train_012.jpg")
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        proposed = await post_files(
            client, f"{PAGE}/samples", {}, [("photos", ("r.jpg", data, "image/jpeg"))]
        )
    assert proposed.status_code == 200, proposed.text[-1500:]
    names = textarea(proposed.text, "names").splitlines()
    assert any(names_match(n, company) for n in names), (company, names)


async def test_saving_is_in_the_audit_log_in_words(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        saved = await post_form(client, PAGE, settings_form(window_days="14"))
        shop = await client.get("/console/audit", params={"kind": "shop"})
    assert saved.status_code == 303
    assert "Owner changed the receipt profile" in shop.text
    with as_owner(tenant_a):
        log = await AuditLog.select().where(AuditLog.action == "receipt_settings.set")
    before, after = json.loads(log[0]["before"]), json.loads(log[0]["after"])
    assert after["window_days"] == 14 and before["window_days"] == 7

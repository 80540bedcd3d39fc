"""The console's QR kit through the real app: the page, its previews and files, branches,
roles, two shops, a suspended shop.

Real channel plugins (WhatsApp's wa.me link, the web chat page), real PDFs and PNGs read
back with pypdfium2 and zxing-cpp. Tests touch the database only outside client blocks.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from urllib.parse import quote

import pypdfium2
import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from loyalchat.context import Actor, tenant_context
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.qrkit import branches
from loyalchat.qrkit.tables import QrBranch
from loyalchat.tenants import accounts
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import Role, Tenant
from tests.console_helpers import login, post_form
from tests.fixtures import PASSWORD, World
from tests.test_conversations_support import app_for, installed

SHOP_NAME = "示範咖啡 Demo Café"
WHATSAPP = {
    "phone_number_id": "106540352242922",
    "waba_id": "102290129340398",
    "display_phone": "+852 9123 4567",
    "access_token": "token-for-qrkit",
    "app_secret": "qrkit-app-secret",
    "verify_token": "qrkit-verify",
}
WA_CENTRAL = "https://wa.me/85291234567?text=" + quote("JOIN alpha-tea#central", safe="")
MM = 72 / 25.4  # PDF points per mm


@pytest.fixture
async def app(tenant_a: World, tenant_b: World) -> AsyncIterator[Litestar]:
    pm = build_plugin_manager()
    with installed(pm):
        for world in (tenant_a, tenant_b):
            with tenant_context(world.id, Actor("system")):
                await ps.update_settings("whatsapp", WHATSAPP, pm)
                await ps.enable_plugin("whatsapp", pm)
                await ps.enable_plugin("webchat", pm)
        await Tenant.update({Tenant.display_name: SHOP_NAME}).where(Tenant.id == tenant_a.id)
        with tenant_context(tenant_a.id, Actor("system")):
            await branches.add_branch("central", {"zh-Hant": "中環店", "en": "Central"})
        with tenant_context(tenant_b.id, Actor("system")):
            await branches.add_branch("bravo-only", {"en": "Bravo Street"})
        yield app_for(pm)


async def _client(app: Litestar, email: str) -> AsyncTestClient:
    client = AsyncTestClient(app=app)
    await client.__aenter__()
    await login(client, email)
    return client


async def _manager(world: World) -> str:
    email = f"manager@{world.tenant.slug}.test"
    user = await accounts.create_staff_user(email, PASSWORD)
    with tenant_context(world.id, Actor("system")):
        await accounts.grant_role(user.id, Role.manager)
    return email


def _decode(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


def _pdf_facts(data: bytes) -> tuple[list[tuple[float, float]], str, Image.Image]:
    """Page sizes in mm, the first page's text, the first page rendered at 200 dpi."""
    document = pypdfium2.PdfDocument(data)
    try:
        sizes = [tuple(round(v / MM, 1) for v in page.get_size()) for page in document]
        page = document[0]
        text = page.get_textpage().get_text_range()
        image = page.render(scale=200 / 72).to_pil()
    finally:
        document.close()
    return sizes, text, image


async def test_the_files_are_real_print_files_with_the_branch_in_the_qr(
    app: Litestar, tenant_a: World
) -> None:
    client = await _client(app, tenant_a.cashier.email)  # a cashier prints the kit too
    try:
        page = await client.get("/console/qr-kit?branch=central&channel=whatsapp")
        files = {
            name: await client.get(
                f"/console/qr-kit/file?file={name}&branch=central&channel=whatsapp"
            )
            for name in ("counter-a5", "counter-a6", "stickers-a4", "receipt-58", "receipt-80")
        }
        preview = await client.get(
            "/console/qr-kit/preview?file=counter-a6&branch=central&channel=whatsapp"
        )
        both = await client.get("/console/qr-kit/file?file=counter-a5")
    finally:
        await client.__aexit__(None, None, None)
    assert page.status_code == 200
    assert WA_CENTRAL.replace("&", "&amp;") in page.text
    assert 'data-testid="branch-add"' not in page.text  # cashiers do not edit branches
    expected = {
        "counter-a5": (148.0, 210.0),
        "counter-a6": (105.0, 148.0),
        "stickers-a4": (210.0, 297.0),
    }
    for name, size in expected.items():
        answer = files[name]
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        assert "attachment" in answer.headers["content-disposition"]
        assert answer.headers["etag"] and "private" in answer.headers["cache-control"]
        sizes, text, image = _pdf_facts(answer.content)
        assert sizes == [size], name  # one page: one channel asked for
        assert "示範咖啡" in text and "Demo Café" in text, name
        assert "中環店" in text, name  # the branch's name
        assert WA_CENTRAL in _decode(image), name
        # The CJK font is embedded (a subset: a CFF font program), not merely named.
        raw = answer.content
        assert b"/FontFile3" in raw or b"/FontFile2" in raw, name
        assert b"+NotoSansCJK" in raw, name  # a subset's tag: ABCDEF+Name
    assert "加入會員" in _pdf_facts(files["counter-a5"].content)[1]  # Traditional, the shop's
    for name, width in (("receipt-58", 384), ("receipt-80", 576)):
        answer = files[name]
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(answer.content))
        assert image.size[0] == width and image.mode == "1", name
        assert _decode(image) == [WA_CENTRAL], name
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    assert WA_CENTRAL in _decode(Image.open(io.BytesIO(preview.content)))
    assert both.status_code == 200
    sizes, _text, _image = _pdf_facts(both.content)
    assert sizes == [(148.0, 210.0)] * 2  # WhatsApp and the web chat: a page each


async def test_a_simplified_chinese_shop_prints_simplified(app: Litestar, tenant_a: World) -> None:
    await Tenant.update({Tenant.locale: "zh-Hans"}).where(Tenant.id == tenant_a.id)
    client = await _client(app, tenant_a.owner.email)
    try:
        answer = await client.get("/console/qr-kit/file?file=counter-a6&channel=webchat")
    finally:
        await client.__aexit__(None, None, None)
    _sizes, text, image = _pdf_facts(answer.content)
    assert "加入会员" in text and "示范咖啡" in text and "Join our membership" in text
    assert "加入會員" not in text
    [link] = _decode(image)
    assert link.endswith("/t/alpha-tea/chat?join=alpha-tea")


async def test_an_etag_answers_not_modified(app: Litestar, tenant_a: World) -> None:
    client = await _client(app, tenant_a.cashier.email)
    try:
        first = await client.get("/console/qr-kit/file?file=receipt-58&channel=whatsapp")
        again = await client.get(
            "/console/qr-kit/file?file=receipt-58&channel=whatsapp",
            headers={"if-none-match": first.headers["etag"]},
        )
    finally:
        await client.__aexit__(None, None, None)
    assert first.status_code == 200 and again.status_code == 304 and again.content == b""


async def test_a_download_ticks_the_checklists_qr_kit(app: Litestar, tenant_a: World) -> None:
    from loyalchat.onboarding.checklist import checklist

    with tenant_context(tenant_a.id, Actor("system")):
        before = {item.key: item.done for item in await checklist(build_plugin_manager())}
    client = await _client(app, tenant_a.cashier.email)
    try:
        file = await client.get("/console/qr-kit/file?file=receipt-58&channel=whatsapp")
    finally:
        await client.__aexit__(None, None, None)
    assert file.status_code == 200
    with tenant_context(tenant_a.id, Actor("system")):
        after = {item.key: item.done for item in await checklist(build_plugin_manager())}
    assert (before["qr_kit"], after["qr_kit"]) == (False, True)


async def test_managers_edit_branches_cashiers_cannot(app: Litestar, tenant_a: World) -> None:
    manager = await _manager(tenant_a)
    client = await _client(app, manager)
    try:
        added = await post_form(
            client,
            "/console/qr-kit/branches",
            {"branch": "Kowloon-1", "name_zh_Hant": "九龍店", "name_en": "Kowloon"},
        )
        taken = await post_form(
            client, "/console/qr-kit/branches", {"branch": "central", "name_en": "Again"}
        )
        bad = await post_form(
            client, "/console/qr-kit/branches", {"branch": "no spaces!", "name_en": "X"}
        )
        nameless = await post_form(client, "/console/qr-kit/branches", {"branch": "empty"})
        page = await client.get("/console/qr-kit")
    finally:
        await client.__aexit__(None, None, None)
    assert added.status_code == 303, added.text
    assert taken.status_code == 409 and "already have a branch" in taken.text
    assert bad.status_code == 400 and "lower-case letters" in bad.text
    assert nameless.status_code == 400 and "Give the branch a name" in nameless.text
    assert 'data-testid="branch-kowloon-1"' in page.text
    with tenant_context(tenant_a.id, Actor("system")):
        kowloon = await branches.get_branch("kowloon-1")
        assert kowloon is not None and kowloon.name["zh-Hans"] == "九龙店"
        codes = [b.code for b in await branches.list_branches()]
    assert codes == ["central", "kowloon-1"]

    client = await _client(app, tenant_a.cashier.email)
    try:
        refused = [
            await post_form(client, "/console/qr-kit/branches", {"branch": "x1", "name_en": "X"}),
            await post_form(client, f"/console/qr-kit/branches/{kowloon.id}", {"name_en": "Y"}),
            await post_form(client, f"/console/qr-kit/branches/{kowloon.id}/delete"),
        ]
    finally:
        await client.__aexit__(None, None, None)
    assert [r.status_code for r in refused] == [403, 403, 403]

    client = await _client(app, tenant_a.owner.email)
    try:
        renamed = await post_form(
            client, f"/console/qr-kit/branches/{kowloon.id}", {"name_en": "Kowloon Bay"}
        )
        removed = await post_form(client, f"/console/qr-kit/branches/{kowloon.id}/delete")
        gone = await client.get("/console/qr-kit/file?file=receipt-58&branch=kowloon-1")
    finally:
        await client.__aexit__(None, None, None)
    assert renamed.status_code == 303 and removed.status_code == 303
    assert gone.status_code == 404
    with tenant_context(tenant_a.id, Actor("system")):
        assert await branches.get_branch("kowloon-1") is None


async def test_another_shops_branches_and_kit_are_not_found(
    app: Litestar, tenant_a: World, tenant_b: World
) -> None:
    theirs = await QrBranch.select(QrBranch.id).where(QrBranch.tenant == tenant_b.id).first()
    client = await _client(app, tenant_a.owner.email)
    try:
        answers = [
            await client.get("/console/qr-kit?branch=bravo-only"),
            await client.get("/console/qr-kit/file?file=counter-a5&branch=bravo-only"),
            await client.get("/console/qr-kit/preview?file=receipt-58&branch=bravo-only"),
            await post_form(
                client, f"/console/qr-kit/branches/{theirs['id']}", {"name_en": "Mine"}
            ),
            await post_form(client, f"/console/qr-kit/branches/{theirs['id']}/delete"),
        ]
        page = await client.get("/console/qr-kit")
        unknown = [
            await client.get("/console/qr-kit/file?file=../../etc/passwd"),
            await client.get("/console/qr-kit/file?file=counter-a5&channel=nope"),
            await client.get("/console/qr-kit/preview?file="),
        ]
    finally:
        await client.__aexit__(None, None, None)
    assert [a.status_code for a in answers] == [404] * 5
    assert "bravo" not in page.text.lower() and "Bravo Street" not in page.text
    assert [a.status_code for a in unknown] == [404] * 3
    row = await QrBranch.select().where(QrBranch.id == theirs["id"]).first()
    assert row is not None and row["name"] and "Mine" not in str(row["name"])
    # B's own files carry B's slug, never A's.
    client = await _client(app, tenant_b.owner.email)
    try:
        own = await client.get(
            "/console/qr-kit/file?file=receipt-58&branch=bravo-only&channel=whatsapp"
        )
    finally:
        await client.__aexit__(None, None, None)
    assert _decode(Image.open(io.BytesIO(own.content))) == [
        "https://wa.me/85291234567?text=" + quote("JOIN bravo-bakery#bravo-only", safe="")
    ]


async def test_a_suspended_shop_downloads_but_changes_nothing(
    app: Litestar, tenant_a: World
) -> None:
    await tenants.set_status(tenant_a.id, tenants.TenantStatus.suspended, reason="test")
    client = await _client(app, tenant_a.owner.email)
    try:
        page = await client.get("/console/qr-kit")
        file = await client.get("/console/qr-kit/file?file=receipt-80&channel=webchat")
        added = await post_form(
            client, "/console/qr-kit/branches", {"branch": "late", "name_en": "Late"}
        )
    finally:
        await client.__aexit__(None, None, None)
    assert page.status_code == 200 and 'data-testid="branch-add"' not in page.text
    assert file.status_code == 200
    assert added.status_code == 403
    with tenant_context(tenant_a.id, Actor("system")):
        assert [b.code for b in await branches.list_branches()] == ["central"]
        # A read-only shop's download writes nothing, not even the checklist's audit row.
        from loyalchat.onboarding.checklist import checklist

        assert {i.key: i.done for i in await checklist(build_plugin_manager())}["qr_kit"] is False


async def test_no_channel_on_no_files(app: Litestar, tenant_a: World) -> None:
    pm = build_plugin_manager()
    with tenant_context(tenant_a.id, Actor("system")):
        await ps.disable_plugin("whatsapp", pm)
        await ps.disable_plugin("webchat", pm)
    client = await _client(app, tenant_a.owner.email)
    try:
        page = await client.get("/console/qr-kit")
        file = await client.get("/console/qr-kit/file?file=counter-a5")
    finally:
        await client.__aexit__(None, None, None)
    assert page.status_code == 200 and "No QR codes to print" in page.text
    assert file.status_code == 404


async def test_without_a_cjk_font_a_file_is_a_clear_503(
    app: Litestar, tenant_a: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalchat.qrkit import fonts, kit

    monkeypatch.delenv(fonts.ENV_FONT, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    for cached in (fonts.cjk_font, kit._make, kit._preview):
        cached.cache_clear()  # nothing made with the real font may answer
    client = await _client(app, tenant_a.cashier.email)
    try:
        file = await client.get("/console/qr-kit/file?file=counter-a6&channel=webchat")
        preview = await client.get("/console/qr-kit/preview?file=receipt-58&channel=webchat")
    finally:
        await client.__aexit__(None, None, None)
        fonts.cjk_font.cache_clear()
    assert file.status_code == 503 and "fonts-noto-cjk" in file.text
    assert preview.status_code == 503

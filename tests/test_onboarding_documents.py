"""onboarding.documents: real PDFs and pictures accepted with a preview; hostile ones
(scripts, launch actions, attachments, encryption, renamed programs, bombs, oversize)
refused with a clear reason. And what the OCR engine reads off a drawn certificate."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from loyalchat.onboarding import documents, reading
from tests import onboarding_helpers as h


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


def test_pdf_is_accepted_with_a_first_page_preview() -> None:
    checked = documents.check_upload(h.certificate_pdf(pages=2))
    assert checked.content_type == "application/pdf"
    assert checked.pages == 2
    preview = _image(checked.preview_png)
    assert preview.format == "PNG" and max(preview.size) <= documents.PREVIEW_SIDE


@pytest.mark.parametrize(
    ("make", "content_type"), [(h.certificate_png, "image/png"), (h.jpeg_photo, "image/jpeg")]
)
def test_pictures_are_accepted(make, content_type: str) -> None:
    checked = documents.check_upload(make())
    assert checked.content_type == content_type and checked.pages == 1
    assert _image(checked.preview_png).format == "PNG"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (h.pdf_with_javascript, "javascript"),
        (h.pdf_with_open_action_launch, "open_action"),
        (h.pdf_with_attachment, "embedded_file"),
        (h.pdf_encrypted, "encrypted"),
        (h.renamed_executable, "unsupported"),
        (h.png_bomb, "too_many_pixels"),
        (lambda: b"", "empty"),
        (lambda: b"%PDF-1.7\n garbage that is no PDF", "broken_pdf"),
        (lambda: b"GIF89a" + b"\x00" * 100, "unsupported"),
        (lambda: h.plain_pdf(pages=documents.MAX_PAGES + 1), "too_many_pages"),
        (lambda: b"%PDF-1.4\n" + b"0" * (documents.MAX_BYTES + 1), "too_large"),
    ],
)
def test_hostile_uploads_are_refused(make, reason: str) -> None:
    with pytest.raises(documents.DocumentRejected) as caught:
        documents.check_upload(make())
    assert caught.value.reason == reason
    assert caught.value.message == documents.MESSAGES[reason]


def test_webp_is_not_a_registration_document() -> None:
    out = io.BytesIO()
    h.certificate_image().save(out, format="WEBP")
    with pytest.raises(documents.DocumentRejected) as caught:
        documents.check_upload(out.getvalue())
    assert caught.value.reason == "unsupported"


def test_filenames_are_cleaned() -> None:
    assert documents.clean_filename("C:\\Users\\x\\商業登記證.pdf") == "商業登記證.pdf"
    assert documents.clean_filename("../../etc/passwd\x00") == "passwd_"
    assert documents.clean_filename("") == "document"


def test_numbers_and_names_found_in_text() -> None:
    text = "Certificate No. 12345678-000-07-25-A\n統一社會信用代碼 91330100716105852F"
    assert reading.find_number(text, "HK") == "12345678"
    assert reading.find_number(text, "CN") == "91330100716105852F"
    assert reading.find_number("91330100716105852A", "CN") == ""  # wrong check character
    assert reading.find_name(["BUSINESS REGISTRATION", "ALPHA TEA LIMITED"]) == "ALPHA TEA LIMITED"
    assert reading.find_name(["業務名稱：阿爾法茶室有限公司"]) == "阿爾法茶室有限公司"
    read = reading.DocumentReading(text="ALPHA TEA LIMITED\n12345678", number="12345678")
    assert reading.cross_check(read, ["Alpha Tea Limited"], "12345678") == {
        "name": "match",
        "number": "match",
    }
    assert reading.cross_check(read, ["Bravo Bakery Limited"], "87654321") == {
        "name": "mismatch",
        "number": "mismatch",
    }
    assert reading.cross_check(reading.DocumentReading(), ["x"], "1") == {
        "name": "unread",
        "number": "unread",
    }


async def test_real_ocr_reads_a_drawn_certificate(plugins) -> None:
    """One real OCR pass (rapidocr) on a rendered certificate page."""
    from loyalchat.context import tenant_context
    from tests.fixtures import make_world

    world = await make_world("alpha-tea")
    checked = documents.check_upload(h.certificate_pdf())
    with tenant_context(world.id):
        read = await reading.read_document(checked.preview_png, "HK", plugins)
    assert read.number == "12345678", read.text
    assert read.name.upper().replace("  ", " ") == "ALPHA TEA LIMITED", read.text
    result = reading.cross_check(read, ["阿爾法茶室有限公司", "Alpha Tea Limited"], "12345678")
    assert result == {"name": "match", "number": "match"}

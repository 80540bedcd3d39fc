"""What the OCR engine reads off a business registration document, and the cross-check
against what the merchant typed.

The engine is the tenant's (``tenants.plugin_access.choose_ocr_engine``, as receipts);
lines come from ``receipts.reading.read_lines`` (upright search included). From the text:
the registration number (a Hong Kong BR number, or a credit code whose check character is
right) and the legal name (a line that ends like a company name, or the typed name found
in the text). The cross-check says, for the name and the number, "match", "mismatch" or
"unread"; a mismatch is shown to the merchant and the reviewer, never blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pluggy
import structlog

from loyalchat.onboarding import validators
from loyalchat.receipts.checks.merchant import merchant_key, names_match
from loyalchat.receipts.reading import ImageRejected, OcrUnavailable, read_lines
from loyalchat.receipts.reading.reader import DEFAULT_ENGINE
from loyalchat.tenants.plugin_access import PluginDisabled, choose_ocr_engine

log = structlog.get_logger(__name__)

MATCH, MISMATCH, UNREAD = "match", "mismatch", "unread"
MAX_TEXT = 20_000
_HK_NUMBER = re.compile(r"(?<!\d)(\d{8})(?:\s*-\s*(\d{3}))?(?!\d)")
_USCC = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{18})(?![0-9A-Z])")
_COMPANY_ENDINGS = ("LIMITED", "LTD", "COMPANY", "CO.", "有限公司", "公司", "商行", "店")


@dataclass(frozen=True)
class DocumentReading:
    text: str = ""
    name: str = ""
    number: str = ""
    engine: str = ""


async def read_document(png: bytes, region: str, pm: pluggy.PluginManager) -> DocumentReading:
    """OCR the document's first page; an empty reading when no engine can run (logged)."""
    try:
        engine = await choose_ocr_engine(DEFAULT_ENGINE, pm)
        result = await read_lines(png, engine)
    except (PluginDisabled, OcrUnavailable, ImageRejected) as exc:
        log.warning("onboarding_ocr_unavailable", error=str(exc))
        return DocumentReading()
    lines = [line.text.strip() for line in result.lines if line.text.strip()]
    return DocumentReading(
        text="\n".join(lines)[:MAX_TEXT],
        name=find_name(lines),
        number=find_number("\n".join(lines), region),
        engine=result.engine,
    )


def find_number(text: str, region: str) -> str:
    """The first registration number of ``region`` in the text, normalised; "" if none."""
    if region == "CN":
        squeezed = re.sub(r"[\s]", "", text.upper())
        for match in _USCC.finditer(squeezed):
            try:
                return validators.cn_unified_social_credit_code(match.group(1))
            except validators.InvalidNumber:
                continue
        return ""
    for match in _HK_NUMBER.finditer(text):
        number, branch = match.group(1), match.group(2)
        return f"{number}-{branch}" if branch and branch != "000" else number
    return ""


def find_name(lines: list[str]) -> str:
    """The first line that reads like a company's name ("... LIMITED", "...有限公司")."""
    for line in lines:
        # "Name of Business: ALPHA TEA LIMITED", "業務名稱：...": the name after the label.
        name = re.split(r"[:：]", line)[-1].strip()
        upper = name.upper().rstrip(" .")
        if any(upper.endswith(end) for end in _COMPANY_ENDINGS) and len(merchant_key(name)) >= 3:
            return name[:200]
    return ""


def cross_check(reading: DocumentReading, names: list[str], number: str) -> dict[str, str]:
    """Name and number as typed against the document's text."""
    typed = [n for n in names if n.strip()]
    if not reading.text:
        name_result = UNREAD
    elif not typed:
        name_result = UNREAD
    elif any(names_match(line, n) for n in typed for line in reading.text.splitlines()):
        name_result = MATCH
    else:
        name_result = MISMATCH
    if not reading.text or not number:
        number_result = UNREAD
    elif number in _numbers_in(reading.text) or number.split("-")[0] in _numbers_in(reading.text):
        number_result = MATCH
    elif reading.number:
        number_result = MISMATCH
    else:
        number_result = UNREAD
    return {"name": name_result, "number": number_result}


def _numbers_in(text: str) -> set[str]:
    squeezed = re.sub(r"\s", "", text.upper())
    return set(re.findall(r"\d{8}", squeezed)) | set(_USCC.findall(squeezed))

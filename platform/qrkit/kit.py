"""The current shop's kit: its channels' join links (with a branch), the files made from
them on request, and their previews.

Files are made from a :class:`~.content.KitContent` only, so the same content gives the
same bytes: they are kept in a small per-process cache (a kit is printed a few times, then
not for months) and served with an ETag. Making one takes about a second (the font subset),
in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from loyalchat.conversations.queueing import runtime_config
from loyalchat.extensions.channels import ChannelAdapter, ChannelError
from loyalchat.qrkit import codes, pdf, receipt_png
from loyalchat.qrkit.branches import Branch
from loyalchat.qrkit.content import KitContent, KitQr
from loyalchat.tenants.service import TenantInfo

# Channels whose join code has a length limit (WeChat's scene string).
CODE_LIMITS = {"wechat": codes.WECHAT_SCENE_MAX}
PREVIEW_WIDTH = 480  # px: sharp on a phone at 375 px wide, small to send
_pdfium = threading.Lock()  # pdfium is not thread-safe


@dataclass(frozen=True, slots=True)
class KitFile:
    name: str
    extension: str
    media_type: str


FILES = {
    item.name: item
    for item in (
        KitFile("counter-a5", "pdf", "application/pdf"),
        KitFile("counter-a6", "pdf", "application/pdf"),
        KitFile("stickers-a4", "pdf", "application/pdf"),
        KitFile("receipt-58", "png", "image/png"),
        KitFile("receipt-80", "png", "image/png"),
    )
}


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """One channel's join link, or why there is none (a ChannelError's message)."""

    kind: str
    label: str
    link: str = ""
    error: str = ""


async def channel_links(
    tenant: TenantInfo, adapters: Iterable[ChannelAdapter], branch: Branch | None
) -> list[ChannelLink]:
    """Each adapter's join link for the shop (and ``branch``): an API call for WeChat."""
    found = []
    for adapter in adapters:
        code = codes.join_code(
            tenant.slug, branch.code if branch else "", CODE_LIMITS.get(adapter.kind)
        )
        try:
            link = await adapter.join_link(code, await runtime_config(adapter.kind))
        except ChannelError as exc:
            found.append(ChannelLink(adapter.kind, adapter.label, error=str(exc)))
            continue
        found.append(ChannelLink(adapter.kind, adapter.label, link=link))
    return found


def content_of(
    tenant: TenantInfo, links: Iterable[ChannelLink], branch: Branch | None
) -> KitContent:
    """What the files show: the channels that have a link."""
    return KitContent(
        shop=tenant.display_name,
        shop_locale=tenant.locale,
        qrs=tuple(KitQr(item.kind, item.label, item.link) for item in links if item.link),
        branch=tuple(sorted(branch.name.items())) if branch else (),
    )


@functools.lru_cache(maxsize=32)
def _make(content: KitContent, name: str) -> bytes:
    if name == "counter-a5":
        return pdf.counter_display(content, "a5")
    if name == "counter-a6":
        return pdf.counter_display(content, "a6")
    if name == "stickers-a4":
        return pdf.sticker_sheet(content)
    paper = 58 if name == "receipt-58" else 80
    return receipt_png.receipt_png(content, content.qrs[0], paper)


async def make_file(content: KitContent, name: str) -> bytes:
    """The file ``name`` (one of :data:`FILES`) for ``content`` (at least one QR)."""
    if name not in FILES or not content.qrs:
        raise KeyError(name)
    return await asyncio.to_thread(_make, content, name)


@functools.lru_cache(maxsize=32)
def _preview(content: KitContent, name: str) -> bytes:
    data = _make(content, name)
    if FILES[name].extension == "png":
        return data
    import pypdfium2

    with _pdfium:
        document = pypdfium2.PdfDocument(data)
        try:
            page = document[0]
            scale = PREVIEW_WIDTH / page.get_size()[0]
            image = page.render(scale=scale).to_pil().convert("L")
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def make_preview(content: KitContent, name: str) -> bytes:
    """A PNG of the file's first page (the PNG files are their own preview)."""
    if name not in FILES or not content.qrs:
        raise KeyError(name)
    return await asyncio.to_thread(_preview, content, name)


def etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'

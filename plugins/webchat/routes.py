"""The web chat's own routes: the page, its messages and photo uploads, the thread's
updates, its pictures.

Messages are posted to ``POST /t/<slug>/chat/send``, not to the core's webhook route: here
the client's address is known, so each device and each address is held to a rate
(:mod:`.limits`; a refused post is a 429 with Retry-After and stores nothing), and the
adapter parses the body and the core's ``store_events`` records it as for any channel
(the adapter refuses the webhook route, which could not limit). Every route resolves the
shop by its slug
(unknown, not yet approved, or web chat turned off: the friendly 404) and the visitor by
the device token signed for THAT shop, so one shop's token reads nothing of another's.
A suspended shop still shows its page: the bot answers politely.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from loyalchat import i18n, texts
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.conversations.webhooks import inbound_request, store_events
from loyalchat.extensions.channels import ChannelAdapter
from loyalchat.media import images, store
from loyalchat.media.responses import media_response
from loyalchat.plugins.webchat import device, limits
from loyalchat.plugins.webchat.adapter import MAX_BODY, MAX_TEXT, chat_path
from loyalchat.plugins.webchat.texts import LIMITED, PAGE
from loyalchat.scoping import scoped_select
from loyalchat.tenants import plugin_access
from loyalchat.tenants.service import TenantInfo, get_tenant_by_slug
from loyalchat.tenants.tables import TenantStatus

KIND = "webchat"
# Public: the slug names the shop and the signed device token is the visitor's credential.
# The photo route needs no CSRF token: the device token in a header is one (a form on
# another site can neither read it nor send a header).
CHAT = {"isolation": "public", "auth": "webchat-device"}
UPLOAD = {**CHAT, "exclude_from_csrf": True}
HEADERS = {"cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "no-referrer"}
SHOWN_STATUSES = frozenset({TenantStatus.active.value, TenantStatus.suspended.value})
PHOTO_FIELD = "photo"
PHOTO_MAX_SIDE = 2048  # a receipt's small print must stay readable
UPDATES_LIMIT = 100
VISITOR = Actor("system", label="web chat")

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Visit:
    tenant: TenantInfo
    claim: device.DeviceClaim | None


async def _shop(request: Request, slug: str) -> TenantInfo:
    """The shop behind ``slug`` when its chat page may show; else the friendly 404."""
    return (await _shop_channel(request, slug))[0]


async def _shop_channel(request: Request, slug: str) -> tuple[TenantInfo, ChannelAdapter]:
    tenant = await get_tenant_by_slug(slug) if len(slug) <= 64 else None
    if tenant is None or tenant.status not in SHOWN_STATUSES:
        raise NotFoundException()
    with tenant_context(tenant.id, VISITOR):
        adapter = await plugin_access.webhook_channel(KIND, request.app.state.plugins)
    if adapter is None:
        raise NotFoundException()
    return tenant, adapter


def _json(body: dict[str, Any], status: int = 200) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, headers=HEADERS)


def _refused(code: str, status: int = 401) -> Response[dict[str, Any]]:
    return _json({"ok": False, "error": code}, status)


async def _conversation_id(claim: device.DeviceClaim) -> int | None:
    """This device's conversation with the current shop (none before its first message)."""
    row = (
        await scoped_select(Conversation, Conversation.id)
        .where((Conversation.channel == KIND) & (Conversation.sender == claim.device_id))
        .first()
    )
    return row["id"] if row else None


@get("/t/{slug:str}/chat", opt=CHAT, include_in_schema=False)
async def chat_page(request: Request, slug: FromPath[str]) -> Template:
    """The chat page, phone first, in the visitor's language; keeps the device cookie."""
    tenant = await _shop(request, slug)
    claim = device.read_device(request.cookies.get(device.COOKIE), tenant.id)
    device_id = claim.device_id if claim else device.new_device_id()
    token = device.sign_device(tenant.id, device_id)  # re-signed: a regular stays known
    locale = i18n.choose(request, None, fallback=tenant.locale)
    request.scope.setdefault("state", {})["locale"] = locale
    shop = texts.in_script(tenant.display_name, locale)
    translated = {name: i18n.gettext(request, msgid) for name, msgid in PAGE.items()}
    translated["title"] = i18n.gettext(request, PAGE["title"], shop=shop)
    too_large = images.MESSAGES["too_large"]
    translated["too_large"] = i18n.gettext(
        request, too_large, limit_mb=images.MAX_UPLOAD_BYTES // (1024 * 1024)
    )
    join = request.query_params.get("join", "")
    path = chat_path(tenant.slug)
    cookie = Cookie(
        key=device.COOKIE,
        value=token,
        max_age=device.DEVICE_MAX_AGE,
        path=path,
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.cookies_secure or request.url.scheme == "https",
    )
    return Template(
        "webchat/chat.html",
        context={
            "shop": shop,
            "t": translated,
            "token": token,
            "locale": locale,
            "paths": {
                "send": f"{path}/send",
                "photo": f"{path}/photo",
                "updates": f"{path}/updates",
            },
            "prefill": f"JOIN {join}"[:MAX_TEXT] if join.isprintable() and join else "",
            "max_text": MAX_TEXT,
            "max_upload": images.MAX_UPLOAD_BYTES,
        },
        headers=HEADERS,
        cookies=[cookie],
    )


async def _visit(request: Request, slug: str) -> Visit:
    tenant = await _shop(request, slug)
    return Visit(tenant, device.read_device(request.headers.get(device.TOKEN_HEADER), tenant.id))


def _address(request: Request) -> str:
    """The client's address (behind a proxy, the one it forwarded: commands/serve.py)."""
    return request.client.host if request.client else "unknown"


def _too_many(request: Request, verdict: limits.Verdict, what: str) -> Response[dict[str, Any]]:
    text = i18n.gettext(request, LIMITED[what])
    body = {"ok": False, "error": "too_many", "message": text, "retry_after": verdict.retry_after}
    return Response(
        body, status_code=429, headers={**HEADERS, "retry-after": str(verdict.retry_after)}
    )


@post(
    "/t/{slug:str}/chat/send",
    opt=UPLOAD,
    include_in_schema=False,
    status_code=200,
    request_max_body_size=MAX_BODY,
)
async def chat_send(request: Request, slug: FromPath[str]) -> Response[Any]:
    """A message of the page (the JSON of :mod:`.adapter`): limited, parsed, stored."""
    tenant, adapter = await _shop_channel(request, slug)
    claim = device.read_device(request.headers.get(device.TOKEN_HEADER), tenant.id)
    if claim is None:
        return _refused("device_token")
    verdict = await limits.admit(tenant.id, claim.device_id, _address(request), limits.MESSAGE)
    if not verdict.allowed:
        return _too_many(request, verdict, "message")
    try:
        body = await request.body()
    except Exception as exc:  # a cut connection, a body over the cap
        status = getattr(exc, "status_code", 400)
        return _refused(
            "too_large" if status == 413 else "unreadable", 413 if status == 413 else 400
        )
    incoming = inbound_request(request, body)
    with tenant_context(tenant.id, VISITOR):
        if not await adapter.verify(incoming, {}):
            return _refused("device_token")
        parsed = await adapter.parse(incoming, {})
        try:
            await store_events(KIND, parsed.events)
        except Exception:
            log.error("webchat_store_error", tenant=tenant.id, exc_info=True)
            return _refused("try_again", 503)  # the page says "not sent", tap to retry
    return Response(
        parsed.reply,
        status_code=parsed.status_code,
        media_type=parsed.content_type,
        headers=HEADERS,
    )


@post("/t/{slug:str}/chat/photo", opt=UPLOAD, include_in_schema=False, status_code=201)
async def chat_photo(request: Request, slug: FromPath[str]) -> Response[dict[str, Any]]:
    """A photo from the camera or the album: checked, stored by sha256, and a ticket for
    this device back; the page then sends ``{"id", "photo": ticket}`` as a message.
    Limited before its body is read: a refused upload costs nothing to check."""
    visit = await _visit(request, slug)
    if visit.claim is None:
        return _refused("device_token")
    verdict = await limits.admit(
        visit.tenant.id, visit.claim.device_id, _address(request), limits.PHOTO
    )
    if not verdict.allowed:
        return _too_many(request, verdict, "photo")
    upload = (await request.form()).get(PHOTO_FIELD)
    if not isinstance(upload, UploadFile):
        return _photo_refused(request, "not_an_image")
    data = await upload.read(images.MAX_UPLOAD_BYTES + 1)  # one byte over is "too large"
    with tenant_context(visit.tenant.id, VISITOR):
        try:
            picture = await asyncio.to_thread(images.web_image, data, max_side=PHOTO_MAX_SIDE)
        except images.InvalidImage as exc:
            return _photo_refused(request, str(exc.extra.get("reason", "")))
        key = await store.save(picture, kind="chat_photo")
    ticket = device.sign_upload(visit.tenant.id, visit.claim.device_id, key)
    return _json({"ok": True, "photo": ticket}, 201)


def _photo_refused(request: Request, reason: str) -> Response[dict[str, Any]]:
    message = images.MESSAGES.get(reason, images.MESSAGES["not_an_image"])
    limit_mb = images.MAX_UPLOAD_BYTES // (1024 * 1024)
    status = 413 if reason == "too_large" else 400
    text = i18n.gettext(request, message, limit_mb=limit_mb)
    return _json({"ok": False, "error": reason or "not_an_image", "message": text}, status)


@get("/t/{slug:str}/chat/updates", opt=CHAT, include_in_schema=False)
async def chat_updates(request: Request, slug: FromPath[str]) -> Response[dict[str, Any]]:
    """The conversation's messages after ``?after=<cursor>`` (both directions, oldest first;
    at most :data:`UPDATES_LIMIT`, the rest on the next poll)."""
    from loyalchat.conversations import service as conversations

    visit = await _visit(request, slug)
    if visit.claim is None:
        return _refused("device_token")
    cursor = _cursor(request.query_params.get("after", ""))
    with tenant_context(visit.tenant.id, VISITOR):
        conversation_id = await _conversation_id(visit.claim)
        if conversation_id is None:
            return _json({"ok": True, "items": [], "cursor": _next_cursor([], cursor)})
        items = await conversations.thread(
            conversation_id,
            after_id=cursor[0],
            after_out_id=cursor[1],
            limit=UPDATES_LIMIT,
        )
        clients = await _client_ids(conversation_id, items)
    path = chat_path(visit.tenant.slug)
    shown = [_item(item, path, clients) for item in items]
    return _json({"ok": True, "items": shown, "cursor": _next_cursor(items, cursor)})


def _cursor(value: str) -> tuple[int, int]:
    """``"<in>.<out>"``: the newest inbound and outbound numbers the page has. Each
    direction is filtered by its own number (``thread``'s exact mode): nothing the page
    has comes back, and a run of more than a page of replies cannot hold the cursor back
    (the time-based mode, given the smaller number, returned the same first page again and
    again once more than 100 replies followed the visitor's last message)."""
    first, _, second = value.partition(".")
    return _whole(first), _whole(second)


def _whole(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else 0


def _number(item_id: str) -> int:
    _, _, number = str(item_id).partition(":")
    return int(number) if number.isdigit() else 0


def _next_cursor(items: list[dict[str, Any]], cursor: tuple[int, int]) -> str:
    newest_in, newest_out = cursor
    for item in items:
        if item.get("direction") == "in":
            newest_in = max(newest_in, _number(item["id"]))
        else:
            newest_out = max(newest_out, _number(item["id"]))
    return f"{newest_in}.{newest_out}"


async def _client_ids(conversation_id: int, items: list[dict[str, Any]]) -> dict[int, str]:
    """The page's own message ids of the inbound items, so it can swap its "sending"
    bubble for the stored message instead of showing it twice."""
    ids = [_number(item["id"]) for item in items if item.get("direction") == "in"]
    if not ids:
        return {}
    rows = await scoped_select(InboundMessage, InboundMessage.id, InboundMessage.provider_id).where(
        (InboundMessage.conversation == conversation_id) & InboundMessage.id.is_in(ids)
    )
    return {row["id"]: row["provider_id"].partition(":")[2] for row in rows}


def _item(item: dict[str, Any], path: str, clients: dict[int, str]) -> dict[str, Any]:
    media_key = item.get("media_key") or ""
    created = item.get("created_at")
    return {
        "id": item["id"],
        "direction": item.get("direction", "out"),
        "kind": item.get("kind", "text"),
        "text": item.get("text") or "",
        "image": f"{path}/media/{media_key}" if store.is_key(media_key) else "",
        "choices": [
            {"id": str(c.get("id", "")), "title": str(c.get("title", ""))}
            for c in item.get("choices") or []
            if isinstance(c, dict)
        ],
        "client": clients.get(_number(item["id"]), "") if item.get("direction") == "in" else "",
        "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
    }


@get("/t/{slug:str}/chat/media/{key:str}", opt=CHAT, include_in_schema=False)
async def chat_media(request: Request, slug: FromPath[str], key: FromPath[str]) -> Response[bytes]:
    """A picture of this device's own conversation (a coupon's QR code, a photo it sent).

    An ``<img>`` sends no header, so the device comes from its (HttpOnly) cookie; any other
    file of the shop, or another device's picture, is "not found".
    """
    tenant = await _shop(request, slug)
    claim = device.read_device(request.cookies.get(device.COOKIE), tenant.id)
    if claim is None or not store.is_key(key):
        raise NotFoundException()
    with tenant_context(tenant.id, VISITOR):
        conversation_id = await _conversation_id(claim)
        if conversation_id is None or not await _in_conversation(conversation_id, key):
            raise NotFoundException()
        try:
            return await media_response(request, key, headers=HEADERS)
        except store.MediaNotFound:
            raise NotFoundException() from None


async def _in_conversation(conversation_id: int, key: str) -> bool:
    for table in (OutboundMessage, InboundMessage):
        found = (
            await scoped_select(table, table.id)
            .where((table.conversation == conversation_id) & (table.media_key == key))
            .first()
        )
        if found:
            return True
    return False


ROUTES = [chat_page, chat_send, chat_photo, chat_updates, chat_media]

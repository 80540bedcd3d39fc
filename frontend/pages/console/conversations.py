"""Conversations in the console: the list (latest first) and one conversation's thread,
with the staff reply form and "Retry" on a failed send.

Thin: the reads are ``conversations.service`` (thread, conversations_page), the writes
``conversations.outbox`` (queue_reply, retry_send). A staff reply carries a one-time form
token that becomes the outbox key ``staff:<token>``, so a double click stores one message.
Pictures in the thread are served by ``/console/media/<key>`` (this shop's store only).
The open thread polls ``/live`` (static/js/conversation.js): the same messages as an HTML
fragment, so new messages and delivery states show without reloading.

Roles: every staff member (cashier and up) reads and answers conversations: answering a
customer is front-desk work, like adding a purchase. A suspended shop reads, never sends.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.bounds import PathId
from loyalchat.context import current_actor
from loyalchat.conversations import outbox
from loyalchat.conversations import service as conversations
from loyalchat.conversations.state import ConversationOut, get_conversation
from loyalchat.conversations.tables import OutboundMessage
from loyalchat.domain import NotFound
from loyalchat.extensions.channels import get_channels
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context
from loyalchat.i18n import N_
from loyalchat.members import service as members
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import scoped_select
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

CONVERSATION = {"tenant_object": "conversation"}
OUTBOUND = {"tenant_object": "outbound_message"}
CASHIER = (role_required(Role.cashier),)
PER_PAGE = 30
THREAD_LIMIT = 200
MAX_REPLY = 4096  # WhatsApp's text limit, the longest any channel takes

CHANNEL_NAMES = {
    "whatsapp": N_("WhatsApp"),
    "wechat": N_("WeChat"),
    "webchat": N_("Web chat"),
}
DELIVERY = {
    "queued": N_("Waiting to send"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "read": N_("Read"),
    "failed": N_("Not delivered"),
}
REPLY_EMPTY = N_("Write a reply.")
REPLY_TOO_LONG = N_("At most 4096 characters.")
WINDOW_CLOSED = N_(
    "The customer last wrote more than %(hours)s hours ago. %(channel)s only carries an "
    "approved template now, and none is set in the channel's settings."
)
# A channel with no templates (WeChat): only the customer writing opens it again.
WINDOW_CLOSED_NO_TEMPLATES = N_(
    "The customer last wrote more than %(hours)s hours ago. %(channel)s has no message "
    "templates: you can answer again once the customer writes."
)


@dataclass(frozen=True, slots=True)
class Window:
    """The channel's customer-service window: free-form replies only while it is open."""

    hours: float | None  # None: the channel has no window (web chat)
    closes_at: datetime | None
    template: bool  # the shop set an approved template the send falls back to
    templates: bool  # the channel carries templates at all (WhatsApp; not WeChat)

    @property
    def open(self) -> bool:
        return self.hours is None or (
            self.closes_at is not None and self.closes_at > datetime.now(UTC)
        )

    @property
    def can_reply(self) -> bool:
        return self.open or self.template


async def _window(conversation: ConversationOut) -> Window:
    adapter = get_channels(current_plugin_manager()).get(conversation.channel)
    hours = outbox.window_hours(conversation.channel, adapter)
    last = conversation.last_inbound_at
    closes = last + timedelta(hours=hours) if hours is not None and last else None
    templates = outbox.offers_templates(adapter)
    template = False
    if hours is not None and templates and (closes is None or closes <= datetime.now(UTC)):
        try:
            template = bool(
                (await outbox.runtime_config(conversation.channel)).get("template_name")
            )
        except Exception:  # the channel was switched off: no template to fall back to
            template = False
    return Window(hours, closes, template, templates)


async def _conversation_or_404(conversation_id: int) -> ConversationOut:
    try:
        return await get_conversation(conversation_id)
    except NotFound:
        raise NotFoundException() from None


async def _latest(conversation_id: int) -> tuple[list[dict[str, Any]], bool]:
    """A long thread's newest messages (oldest of them first), and whether older ones exist
    ("more": the conversation's very first item is not among them)."""
    items = await conversations.thread(conversation_id, limit=THREAD_LIMIT, latest=True)
    more = False
    if len(items) >= THREAD_LIMIT:
        first = await conversations.thread(conversation_id, limit=1)
        more = bool(first) and first[0]["id"] != items[0]["id"]
    return items, more


def _stamp(items: list[dict[str, Any]], more: bool) -> str:
    """What the thread shows, in short: a new message or a changed delivery state (or
    error) changes it, so a poll that finds the same stamp gets "nothing new"."""
    shown = [(i["id"], i.get("status"), i.get("error")) for i in items]
    raw = json.dumps([shown, more], default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:24]


async def _thread_page(
    request: Request,
    conversation: ConversationOut,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    form = dict(form or {})
    if not ff.TOKEN.fullmatch(form.get("token", "")):
        form["token"] = ff.new_token()
    member = None
    if conversation.member_id:
        try:
            member = await members.get_member_by_id(conversation.member_id)
        except NotFound:
            member = None
    items, more = await _latest(conversation.id)
    return Template(
        "console/conversations/thread.html",
        context=base_context(
            request,
            conversation=conversation,
            member=member,
            items=items,
            more=more,
            stamp=_stamp(items, more),
            window=await _window(conversation),
            form=form,
            errors=errors or {},
            CHANNEL_NAMES=CHANNEL_NAMES,
            DELIVERY=DELIVERY,
        ),
        status_code=status_code,
        headers={"cache-control": "no-store"},
    )


class ConversationsController(Controller):
    path = "/console/conversations"
    include_in_schema = False
    guards = CASHIER

    @get("/")
    async def list_conversations(
        self,
        request: Request,
        channel: FromQuery[str] = "",
        member: FromQuery[int] = 0,
        page: FromQuery[int] = 1,
    ) -> Template:
        """Latest activity first; ``?member=`` a member's conversations (one per channel)."""
        channel = channel if channel in CHANNEL_NAMES else ""
        member = member if 0 < member < 2**31 else 0
        page = max(1, min(page, 10_000))
        rows = await conversations.conversations_page(
            channel=channel, member_id=member, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE
        )
        return Template(
            "console/conversations/list.html",
            context=base_context(
                request,
                rows=rows[:PER_PAGE],
                page=page,
                has_next=len(rows) > PER_PAGE,
                channel=channel,
                member_filter=member,
                CHANNEL_NAMES=CHANNEL_NAMES,
            ),
            headers={"cache-control": "no-store"},
        )

    @get("/{conversation_id:int}", opt=CONVERSATION)
    async def show(self, request: Request, conversation_id: PathId) -> Template:
        return await _thread_page(request, await _conversation_or_404(conversation_id))

    @get("/{conversation_id:int}/live", opt=CONVERSATION)
    async def live(
        self, request: Request, conversation_id: PathId, seen: FromQuery[str] = ""
    ) -> Response[Any]:
        """The thread's messages as the page shows them (an HTML fragment) for its polling,
        with their stamp in ``X-Thread-Stamp``; 204 when ``?seen=`` is still that stamp."""
        conversation = await _conversation_or_404(conversation_id)
        items, more = await _latest(conversation.id)
        stamp = _stamp(items, more)
        headers = {"cache-control": "no-store", "x-thread-stamp": stamp}
        if seen == stamp:
            return Response(b"", status_code=204, headers=headers)
        return Template(
            "console/conversations/_thread_items.html",
            context=base_context(request, items=items, more=more, DELIVERY=DELIVERY),
            headers=headers,
        )

    @post("/{conversation_id:int}/reply", opt=CONVERSATION, status_code=303)
    async def reply(self, request: Request, conversation_id: PathId) -> Response[Any]:
        """Queue a staff reply once per form token; refused outside the channel's window."""
        conversation = await _conversation_or_404(conversation_id)
        form = await ui.form_data(request)
        text = form.get("text", "").strip()
        check = ff.Collect()
        token = check(ff.token, form)
        if not text:
            check.add("text", REPLY_EMPTY)
        elif len(text) > MAX_REPLY:
            check.add("text", REPLY_TOO_LONG)
        try:
            check.done()
        except ff.FieldError as exc:
            errors = ff.messages(request, exc)
            return await _thread_page(
                request, conversation, form=form, errors=errors, status_code=HTTP_400_BAD_REQUEST
            )
        actor = current_actor()
        try:
            await outbox.queue_reply(
                conversation.id,
                text,
                key=f"staff:{token}",
                sent_by=actor.label or actor.ref,
            )
        except outbox.WindowClosed:
            window = await _window(conversation)
            message = i18n.gettext(
                request,
                WINDOW_CLOSED if window.templates else WINDOW_CLOSED_NO_TEMPLATES,
                hours="%g" % (window.hours or 0),
                channel=i18n.gettext(request, CHANNEL_NAMES.get(conversation.channel, "")),
            )
            return await _thread_page(
                request,
                conversation,
                form=form,
                errors={"form": message},
                status_code=HTTP_409_CONFLICT,
            )
        ui.flash(request, N_("Reply queued."), "success")
        return Redirect(f"/console/conversations/{conversation.id}#latest", status_code=303)

    @post("/messages/{outbound_id:int}/retry", opt=OUTBOUND, status_code=303)
    async def retry(self, request: Request, outbound_id: PathId) -> Redirect:
        """Send a failed message again; 404 for another shop's (or a missing) message."""
        row = (
            await scoped_select(OutboundMessage, OutboundMessage.conversation)
            .where(OutboundMessage.id == outbound_id)
            .first()
        )
        if row is None:
            raise NotFoundException()
        conversation_id = row["conversation"]
        if await conversations.retry_send(outbound_id):
            ui.flash(request, N_("Sending again."), "success")
        else:
            ui.flash(request, N_("This message is not failed: nothing to retry."), "info")
        return Redirect(f"/console/conversations/{conversation_id}#latest", status_code=303)

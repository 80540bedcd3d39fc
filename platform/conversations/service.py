"""Conversations for the console and the web chat: threads, the list, channel health; and
the platform's map of provider accounts to tenants.

Reads are the current tenant's only (``loyalchat.scoping``). Writes to the outbox live in
:mod:`loyalchat.conversations.outbox`; :func:`queue_reply` and :func:`retry_send` are
re-exported here because the console and the web chat call them with the reads.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from loyalchat.context import cross_tenant, require_tenant
from loyalchat.conversations.staff import WindowClosed, queue_reply, retry_send
from loyalchat.conversations.tables import (
    ChannelAccount,
    Conversation,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
)
from loyalchat.db import database_is_sqlite
from loyalchat.domain import Conflict, DomainError
from loyalchat.inbox.tables import InboundEvent
from loyalchat.scoping import (
    new_row,
    scoped_count,
    scoped_delete,
    scoped_insert,
    scoped_raw,
    scoped_select,
    unscoped,
)
from loyalchat.settings import get_settings
from loyalchat.tenants.tables import Tenant, TenantStatus

__all__ = [
    "ChannelAccountTaken",
    "WindowClosed",
    "channel_health",
    "conversations_page",
    "queue_reply",
    "retry_send",
    "sync_channel_account",
    "tenant_for_account",
    "thread",
    "webhook_url",
]

MAX_PAGE = 200


class ChannelAccountTaken(Conflict):
    """Another shop already connected this provider account (a number, an official account)."""

    code = "channel_account_taken"


# -- provider accounts (platform table) ------------------------------------------------


async def sync_channel_account(kind: str, account_id: str) -> None:
    """Make ``account_id`` (a WhatsApp phone_number_id, a WeChat original id) the current
    tenant's account on channel ``kind``; the console calls it when settings are saved.

    The tenant's previous account on that channel is released; ``""`` releases it only.
    An account another tenant holds raises :class:`ChannelAccountTaken` and changes
    nothing: the unique index (channel, account_id) decides, not a check-then-insert.
    """
    tenant_id = require_tenant()
    account_id = (account_id or "").strip()
    if len(account_id) > 128 or "\x00" in account_id:
        raise DomainError("the account id is too long", code="invalid_account_id")
    if account_id:
        row = new_row(ChannelAccount, channel=kind, account_id=account_id)
        await scoped_insert(ChannelAccount, row).on_conflict(action="DO NOTHING")
        holder = await tenant_for_account(kind, account_id)
        if holder != tenant_id:
            raise ChannelAccountTaken(
                f"{kind} account {account_id} is connected to another shop; "
                "ask the platform's support to release it",
                account=account_id,
            )
    await scoped_delete(ChannelAccount).where(
        (ChannelAccount.channel == kind) & (ChannelAccount.account_id != account_id)
    )


async def tenant_for_account(kind: str, account_id: str) -> int | None:
    """CROSS-TENANT: the tenant holding ``account_id`` on ``kind`` (webhook routing)."""
    with cross_tenant("webhook routing: which shop a provider account belongs to"):
        table = unscoped(ChannelAccount)
        row = (
            await table.select(table.tenant)
            .where((table.channel == kind) & (table.account_id == account_id))
            .first()
        )
    return row["tenant"] if row else None


async def tenant_is_live(tenant_id: int) -> bool:
    """Whether the shop's channels answer: active, or suspended (politely)."""
    row = await Tenant.select(Tenant.status).where(Tenant.id == tenant_id).first()
    live = (TenantStatus.active.value, TenantStatus.suspended.value)
    return row is not None and row["status"] in live


def webhook_url(kind: str, slug: str) -> str:
    """What a shop pastes into the provider's console for its own app or account."""
    return f"{get_settings().public_base_url.rstrip('/')}/hooks/{kind}/{slug}"


# -- reads -----------------------------------------------------------------------------


def _choices(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    return list(value) if isinstance(value, list) else []


async def thread(
    conversation_id: int,
    *,
    after_id: int = 0,
    limit: int = 100,
    after_out_id: int | None = None,
    latest: bool = False,
) -> list[dict]:
    """Both directions of a conversation, oldest first, as the console and web chat show
    them; another tenant's conversation reads as empty.

    The first ``limit`` items (after the ``after_*`` filters), or with ``latest`` the
    newest ``limit`` ones, still oldest first: the console shows a long thread's end.

    Item ids are ``"in:<n>"``/``"out:<n>"``, numbered per direction. For exact polling pass
    the newest inbound number as ``after_id`` and the newest outbound one as
    ``after_out_id``: only newer rows of each come back. With ``after_id`` alone, items
    newer in time than the newest item numbered up to ``after_id`` in either direction
    come back (pass the smaller of the two numbers to skip nothing).
    """
    limit = max(1, min(int(limit), MAX_PAGE))
    conversation = await _conversation(conversation_id)
    if conversation is None:
        return []
    inbound_q = scoped_select(InboundMessage).where(InboundMessage.conversation == conversation_id)
    outbound_q = scoped_select(OutboundMessage).where(
        OutboundMessage.conversation == conversation_id
    )
    if after_out_id is not None:
        inbound_q = inbound_q.where(InboundMessage.id > max(0, int(after_id)))
        outbound_q = outbound_q.where(OutboundMessage.id > max(0, int(after_out_id)))
    elif (since := await _since(conversation_id, after_id)) is not None:
        inbound_q = inbound_q.where(InboundMessage.created_at > since)
        outbound_q = outbound_q.where(OutboundMessage.created_at > since)
    # The first (or newest) ``limit`` of the merge are among each direction's first
    # (or newest) ``limit``.
    inbound = await inbound_q.order_by(InboundMessage.id, ascending=not latest).limit(limit)
    outbound = await outbound_q.order_by(OutboundMessage.id, ascending=not latest).limit(limit)
    items = [_in_item(row) for row in inbound] + [_out_item(row) for row in outbound]
    items.sort(key=lambda item: (item["created_at"], item["direction"] == "out", item["n"]))
    for item in items:
        item.pop("n")
    return items[-limit:] if latest else items[:limit]


async def _since(conversation_id: int, after_id: int) -> datetime | None:
    """The time of the newest item with a per-direction id up to ``after_id``."""
    if after_id <= 0:
        return None
    rows = await scoped_raw(
        InboundMessage,
        "SELECT max(t) AS t FROM ("
        " SELECT max(created_at) AS t FROM inbound_message"
        "  WHERE tenant = {tenant} AND conversation = {} AND id <= {}"
        " UNION ALL SELECT max(created_at) FROM outbound_message"
        "  WHERE tenant = {tenant} AND conversation = {} AND id <= {}) AS x",
        conversation_id,
        after_id,
        conversation_id,
        after_id,
    )
    return rows[0]["t"] if rows else None


def _in_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"in:{row['id']}",
        "n": row["id"],
        "direction": "in",
        "kind": row["kind"],
        "text": row["text"],
        "media_key": row["media_key"],
        "choices": [],
        "choice_id": row["choice_id"],
        "status": "",
        "error": "",
        "created_at": row["created_at"],
    }


def _out_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"out:{row['id']}",
        "n": row["id"],
        "direction": "out",
        "kind": row["kind"],
        "text": row["text"],
        "media_key": row["media_key"],
        "choices": _choices(row["choices"]),
        "status": row["status"],
        "error": row["error"],
        "error_code": row["error_code"],
        "sent_by": row["sent_by"],
        "created_at": row["created_at"],
    }


async def _conversation(conversation_id: int) -> dict[str, Any] | None:
    return await scoped_select(Conversation).where(Conversation.id == conversation_id).first()


_PAGE_SQL = """
SELECT c.id, c.channel, c.sender, c.profile_name, c.locale, c.opted_out,
       c.last_inbound_at, c.updated_at, c.member AS member_id,
       m.member_no, m.name AS member_name,
       (SELECT count(*) FROM outbound_message o
         WHERE o.tenant = {tenant} AND o.conversation = c.id AND o.status = 'failed') AS failed,
       (SELECT count(*) FROM inbound_message i
         WHERE i.tenant = {tenant} AND i.conversation = c.id
           AND i.created_at > COALESCE((SELECT max(o.created_at) FROM outbound_message o
               WHERE o.tenant = {tenant} AND o.conversation = c.id AND o.sent_by <> 'bot'),
               'epoch'::timestamptz)) AS unread,
       last.direction AS last_direction, last.text AS last_text, last.kind AS last_kind,
       last.at AS last_at
FROM conversation c
LEFT JOIN member m ON m.id = c.member AND m.tenant = {tenant}
LEFT JOIN LATERAL (
    SELECT * FROM (
        (SELECT 'in' AS direction, i.text, i.kind, i.created_at AS at FROM inbound_message i
          WHERE i.tenant = {tenant} AND i.conversation = c.id ORDER BY i.id DESC LIMIT 1)
        UNION ALL
        (SELECT 'out', o.text, o.kind, o.created_at FROM outbound_message o
          WHERE o.tenant = {tenant} AND o.conversation = c.id ORDER BY o.id DESC LIMIT 1)
    ) AS both_ ORDER BY at DESC LIMIT 1
) AS last ON TRUE
WHERE c.tenant = {tenant} AND ({} = '' OR c.channel = {}) AND ({} = 0 OR c.member = {})
ORDER BY COALESCE(last.at, c.updated_at) DESC, c.id DESC
LIMIT {} OFFSET {}
"""


async def conversations_page(
    *, channel: str = "", member_id: int = 0, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """The console's list, latest activity first: member number and name, channel, the
    last message (either direction), ``unread`` (messages since staff last answered) and
    ``failed`` (sends the provider refused). Filter by ``channel`` or ``member_id``."""
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    if database_is_sqlite():
        return await _page_embedded(channel, member_id, limit, offset)
    rows = await scoped_raw(
        Conversation, _PAGE_SQL, channel, channel, member_id, member_id, limit, offset
    )
    return [dict(row) for row in rows]


async def _page_embedded(channel: str, member_id: int, limit: int, offset: int) -> list[dict]:
    """The same list on SQLite (no LATERAL join there), query by query: the embedded
    default's few conversations a page. Ordered by the conversation's last change, which
    every message in either direction moves."""
    C = Conversation
    query = scoped_select(
        C,
        C.id,
        C.channel,
        C.sender,
        C.profile_name,
        C.locale,
        C.opted_out,
        C.last_inbound_at,
        C.updated_at,
        C.member.as_alias("member_id"),
        C.member.member_no.as_alias("member_no"),
        C.member.name.as_alias("member_name"),
    )
    if channel:
        query = query.where(C.channel == channel)
    if member_id:
        query = query.where(C.member == member_id)
    rows = await query.order_by(C.updated_at, C.id, ascending=False).limit(limit).offset(offset)
    out = []
    for row in rows:
        cid = row["id"]
        failed = await scoped_count(OutboundMessage).where(
            (OutboundMessage.conversation == cid) & (OutboundMessage.status == "failed")
        )
        answered = (
            await scoped_select(OutboundMessage, OutboundMessage.created_at)
            .where((OutboundMessage.conversation == cid) & (OutboundMessage.sent_by != "bot"))
            .order_by(OutboundMessage.id, ascending=False)
            .first()
        )
        unread = scoped_count(InboundMessage).where(InboundMessage.conversation == cid)
        if answered:
            unread = unread.where(InboundMessage.created_at > answered["created_at"])
        last_in = (
            await scoped_select(
                InboundMessage, InboundMessage.text, InboundMessage.kind, InboundMessage.created_at
            )
            .where(InboundMessage.conversation == cid)
            .order_by(InboundMessage.id, ascending=False)
            .first()
        )
        last_out = (
            await scoped_select(
                OutboundMessage,
                OutboundMessage.text,
                OutboundMessage.kind,
                OutboundMessage.created_at,
            )
            .where(OutboundMessage.conversation == cid)
            .order_by(OutboundMessage.id, ascending=False)
            .first()
        )
        both = [(m["created_at"], d, m) for d, m in (("in", last_in), ("out", last_out)) if m]
        last = max(both, key=lambda item: item[0]) if both else None
        out.append(
            {
                **row,
                "failed": failed,
                "unread": await unread,
                "last_direction": last[1] if last else None,
                "last_text": last[2]["text"] if last else None,
                "last_kind": last[2]["kind"] if last else None,
                "last_at": last[0] if last else None,
            }
        )
    return out


async def channel_health(kind: str) -> dict[str, Any]:
    """For the channels page: when the last webhook arrived, the last send error."""
    received = (
        await scoped_select(InboundEvent, InboundEvent.received_at)
        .where(InboundEvent.source == kind)
        .order_by(InboundEvent.id, ascending=False)
        .first()
    )
    failed = (
        await scoped_select(
            OutboundMessage,
            OutboundMessage.error_code,
            OutboundMessage.error,
            OutboundMessage.updated_at,
        )
        .where(
            (OutboundMessage.status == OutboundStatus.failed.value)
            & (OutboundMessage.conversation.channel == kind)
        )
        .order_by(OutboundMessage.updated_at, ascending=False)
        .first()
    )
    return {
        "last_webhook_at": received["received_at"] if received else None,
        "last_error": failed["error"] if failed else "",
        "last_error_code": failed["error_code"] if failed else "",
        "last_error_at": failed["updated_at"] if failed else None,
    }

"""Built-in plugin: points for receipts. Every picture a member sends on any channel
(WhatsApp, WeChat, the web chat) becomes a receipt that the pipeline reads, checks and
credits (:mod:`loyalchat.receipts.pipeline`); the platform's receipt checks are
registered here like any plugin's.

A shop that turns it off gets the bot's holding reply for pictures and credits purchases
by hand; its receipts already received are still processed (the pipeline always runs the
platform's checks).
"""

from __future__ import annotations

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts.checks import builtin_checks
from loyalchat.tasks import register_actor_module

NAME = "receipts"
PLUGIN_INFO = PluginInfo(
    title=N_("Points for receipts"),
    summary=N_(
        "Members send a photo of their receipt in the chat and get their points in seconds; "
        "copies, other shops' and old receipts are refused, unclear ones come to you."
    ),
)

# The worker imports the receipt actors once this plugin is loaded.
register_actor_module("loyalchat.receipts.tasks")


@hookimpl
def register_receipt_checks(register) -> None:
    for check in builtin_checks():
        register(check)


@hookimpl
async def receipt_received(
    tenant_id: int,
    member_id: int | None,
    conversation_id: int,
    media_key: str,
    inbound_message_id: int,
) -> int | None:
    """A receipt for the picture (the same one again for the same message); None when the
    shop turned receipts off, so the bot answers the picture itself."""
    from loyalchat.receipts import service
    from loyalchat.tenants import plugin_access

    if not await plugin_access.is_enabled(NAME, current_plugin_manager()):
        return None
    return await service.receive(
        media_key=media_key,
        member_id=member_id,
        conversation_id=conversation_id,
        inbound_message_id=inbound_message_id,
        branch=await _branch(conversation_id),
    )


async def _branch(conversation_id: int) -> str:
    """The store whose QR the member scanned, when the QR kit knows it."""
    try:
        from loyalchat.qrkit.branches import branch_of_conversation
    except ImportError:
        return ""
    return await branch_of_conversation(conversation_id)

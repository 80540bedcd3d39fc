"""Objects the isolation harness plants in tenant B, by the ``tenant_object`` a route declares.

A route that takes a tenant-owned id in its path sets ``opt={"tenant_object": "<kind>"}``;
add a factory here for each new kind (the harness fails for a kind it cannot make). A
factory returns what goes in the path: an int id, or, for objects that routes name in
more than one way, the value per parameter type (``{"int": id, "str": member_no}``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Awaitable, Callable, Mapping

from PIL import Image

from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.ledger import service as ledger
from loyalchat.ledger import stored_value
from loyalchat.media import images
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate
from loyalchat.scoping import new_row, scoped_select
from loyalchat.tenants import apikeys
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.tables import Role, TenantPlugin

Factory = Callable[[int], Awaitable[int | Mapping[str, int | str]]]


async def _api_key(tenant_id: int) -> int:
    with tenant_context(tenant_id, Actor("system")):
        return (await apikeys.create_key("planted by harness", Role.cashier)).id


class _PlantedPlugin:
    """A plugin named "x" (the name the harness puts in a ``{plugin:str}`` path)."""

    @hookimpl
    def register_tenant_settings(self, register) -> None:
        register(SettingField("token", "Token", secret=True), SettingField("account", "Account"))


async def _tenant_plugin(tenant_id: int) -> int:
    """Tenant B enables plugin "x" with settings; the app's own plugin manager lacks "x",
    so tenant A must get 404 for it and leave B's row alone."""
    pm = build_plugin_manager(load_entrypoints=False, plugins={"x": _PlantedPlugin()})
    with tenant_context(tenant_id, Actor("system")):
        await ps.update_settings("x", {"token": "planted-secret", "account": "planted"}, pm)
        await ps.enable_plugin("x", pm)
        row = await scoped_select(TenantPlugin, TenantPlugin.id).first()
    return row["id"]


async def _member(tenant_id: int) -> Mapping[str, int | str]:
    """Tenant B's member with points and stored value: ``{member_id:int}`` routes get its
    id, ``{member_no:str}`` routes its number, "B000001", which tenant A (numbering
    "M...") could never have itself."""
    with tenant_context(tenant_id, Actor("system")):
        await members.set_number_format("B{seq:06d}")
        member = await members.create_member(MemberCreate(name="Planted", phone="+85291234567"))
        await ledger.adjust(
            member.id, 1000, key=f"planted:{member.id}", reason="planted by harness"
        )
        await stored_value.top_up(member.id, "100.00", key=f"planted-value:{member.id}")
    return {"int": member.id, "str": member.member_no}


def _picture() -> bytes:
    """A PNG of random pixels: its key is new, whatever else this run has stored."""
    out = io.BytesIO()
    Image.frombytes("RGB", (16, 12), os.urandom(16 * 12 * 3)).save(out, format="PNG")
    return out.getvalue()


async def _media(tenant_id: int) -> Mapping[str, int | str]:
    """A picture in tenant B's media store: ``{key:str}`` routes get its key."""
    with tenant_context(tenant_id, Actor("system")):
        key = await images.save_web_image(_picture(), kind="reward_image")
    return {"str": key}


async def _reward(tenant_id: int) -> int:
    """Tenant B's coupon, with a picture (so its image route has bytes to withhold)."""
    with tenant_context(tenant_id, Actor("system")):
        picture = await images.save_web_image(_picture(), kind="reward_image")
        reward = await rewards.create_reward(
            RewardCreate(
                name={"en": "Planted"},
                points_cost=10,
                type="coupon",
                options={"benefit": "planted"},
                stock=5,
                image=picture,
            )
        )
    return reward.id


async def _grant(tenant_id: int) -> Mapping[str, int | str]:
    """An issued (unused) coupon of tenant B's member: its id, or its code."""
    member = await _member(tenant_id)
    reward_id = await _reward(tenant_id)
    with tenant_context(tenant_id, Actor("system")):
        grant = await rewards.redeem(int(member["int"]), reward_id, key="planted-grant")
    return {"int": grant.id, "str": grant.code}


async def _earning_rule(tenant_id: int) -> int:
    from decimal import Decimal

    from loyalchat.rules import service as rules
    from loyalchat.rules.schemas import RuleCreate
    from loyalchat.rules.tables import RuleKind

    with tenant_context(tenant_id, Actor("system")):
        rule = await rules.create_rule(
            RuleCreate(name="Planted rule", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
    return rule.id


async def _conversation(tenant_id: int, sender: str = "planted-sender") -> int:
    """A WhatsApp conversation with the customer's first message (the console's thread)."""
    from loyalchat.conversations.tables import Conversation, InboundMessage
    from loyalchat.scoping import save_row

    with tenant_context(tenant_id, Actor("system")):
        conversation = new_row(
            Conversation, channel="whatsapp", sender=sender, profile_name="Planted Chat"
        )
        await save_row(conversation)
        await save_row(
            new_row(
                InboundMessage,
                conversation=conversation.id,
                provider_id="planted-in",
                text="planted question",
            )
        )
    return conversation.id


async def _outbound_message(tenant_id: int) -> int:
    """A failed reply in a conversation (what staff may retry)."""
    from loyalchat.conversations.tables import OutboundMessage
    from loyalchat.scoping import save_row

    conversation_id = await _conversation(tenant_id, "planted-sender-2")
    with tenant_context(tenant_id, Actor("system")):
        row = new_row(
            OutboundMessage,
            conversation=conversation_id,
            key="planted-out",
            text="planted answer",
            status="failed",
            error_code="131026",
            error="131026: planted error",
        )
        await save_row(row)
    return row.id


async def _auto_reply(tenant_id: int) -> int:
    from loyalchat.conversations import autoreplies

    with tenant_context(tenant_id, Actor("system")):
        rule = await autoreplies.create_auto_reply(
            autoreplies.AutoReplyIn(match="contains", pattern="planted", reply={"en": "Planted"})
        )
    return rule.id


async def _qr_branch(tenant_id: int) -> Mapping[str, int | str]:
    """A branch of B's QR kit: routes get its id, ``?branch=`` its code (one A lacks)."""
    from loyalchat.qrkit import branches

    with tenant_context(tenant_id, Actor("system")):
        branch = await branches.add_branch("planted-b", {"en": "Planted branch"})
    return {"int": branch.id, "str": branch.code}


async def _receipt(tenant_id: int) -> int:
    """A receipt of B's waiting for review, its photo in B's media store (no member: the
    other factories' member numbering stays as it is)."""
    from tests.receipt_review_helpers import plant_receipt

    return await plant_receipt(tenant_id, None)


async def _staff(tenant_id: int) -> int:
    """A cashier of B's (the staff page removes people by user id)."""
    from loyalchat.tenants import accounts

    user = await accounts.create_staff_user(
        f"planted-{tenant_id}-{os.urandom(4).hex()}@staff.test", "planted password 123"
    )
    with tenant_context(tenant_id, Actor("system")):
        await accounts.grant_role(user.id, Role.cashier)
    return user.id


async def _staff_invitation(tenant_id: int) -> int:
    """A pending invitation of B's (the staff page withdraws invitations by id)."""
    from loyalchat.tenants import invitations

    with tenant_context(tenant_id, Actor("system")):
        invitation, _token = await invitations.invite(
            f"invited-{os.urandom(4).hex()}@staff.test", Role.cashier, invited_by=None
        )
    return invitation.id


async def _billing_payment(tenant_id: int) -> int:
    """A manual payment of B's waiting for the admin, with its slip in B's media store."""
    from loyalchat.billing import service as billing
    from loyalchat.media import store

    code = f"planted-{os.urandom(4).hex()}"
    await billing.create_plan(billing.PlanInput(code=code, name=code, monthly_price="1"))
    with tenant_context(tenant_id, Actor("system")):
        await billing.choose_plan(tenant_id, code, "manual")
        payment = (await billing.list_payments(tenant_id, limit=1))[0]
        key = await store.save(_picture(), kind="payment_slip")
        await billing.attach_slip(
            tenant_id,
            payment.id,
            reference="PLANTED",
            slip_key=key,
            preview_key=key,
            content_type="image/png",
            filename="slip.png",
        )
    return payment.id


FACTORIES: dict[str, Factory] = {
    "staff": _staff,
    "staff_invitation": _staff_invitation,
    "receipt": _receipt,
    "qr_branch": _qr_branch,
    "conversation": _conversation,
    "outbound_message": _outbound_message,
    "auto_reply": _auto_reply,
    "api_key": _api_key,
    "tenant_plugin": _tenant_plugin,
    "earning_rule": _earning_rule,
    "member": _member,
    "reward": _reward,
    "grant": _grant,
    "media": _media,
    "billing_payment": _billing_payment,
}

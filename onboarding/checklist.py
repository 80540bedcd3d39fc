"""The first steps after approval, each done or not from the shop's real data.

Shown on the console home (``onboarding/_checklist.html``) until every step is done:

- connect a channel: a chat channel's plugin enabled by the shop itself (a row in
  ``tenant_plugin``, not a platform default);
- set earning rules: an active earning rule;
- add rewards: an active reward;
- print the QR kit: the shop said so on the checklist (an application event), or the QR
  kit recorded a download in the audit log (``qrkit.download``, when it records one).

Runs in the current tenant's context (the console's request).
"""

from __future__ import annotations

from dataclasses import dataclass

import pluggy

from loyalchat.context import require_tenant
from loyalchat.extensions.channels import get_channels
from loyalchat.i18n import N_
from loyalchat.onboarding.tables import ApplicationEvent
from loyalchat.rewards.tables import Reward
from loyalchat.rules.tables import EarningRule
from loyalchat.scoping import scoped_count
from loyalchat.tenants.tables import AuditLog, TenantPlugin

QR_KIT_PRINTED = "qr_kit_printed"  # the ApplicationEvent kind "I printed it" records
QR_KIT_DOWNLOAD = "qrkit.download"  # the audit action a QR kit download would record


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    key: str
    label: str  # marked with N_, translated by the template
    href: str
    done: bool


async def checklist(pm: pluggy.PluginManager) -> list[ChecklistItem]:
    """The four first steps of the current shop, in order, each with ``done``."""
    require_tenant()
    channel_plugins = {get_channels(pm).owner(kind) for kind in get_channels(pm)}
    connected = bool(channel_plugins) and bool(
        await scoped_count(TenantPlugin).where(
            TenantPlugin.enabled.eq(True) & TenantPlugin.plugin.is_in(sorted(channel_plugins))
        )
    )
    rules = await scoped_count(EarningRule).where(EarningRule.active.eq(True))
    rewards = await scoped_count(Reward).where(Reward.active.eq(True))
    printed = await scoped_count(ApplicationEvent).where(
        ApplicationEvent.kind == QR_KIT_PRINTED
    ) or await scoped_count(AuditLog).where(AuditLog.action == QR_KIT_DOWNLOAD)
    return [
        ChecklistItem("channel", N_("Connect a chat channel"), "/console/channels", connected),
        ChecklistItem("rules", N_("Set your earning rules"), "/console/rules", bool(rules)),
        ChecklistItem(
            "rewards", N_("Add rewards members can redeem"), "/console/rewards", bool(rewards)
        ),
        ChecklistItem(
            "qr_kit", N_("Print the QR kit for your counter"), "/console/qr-kit", bool(printed)
        ),
    ]

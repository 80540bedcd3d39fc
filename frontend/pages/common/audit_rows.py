"""The audit log as sentences in the reader's language: who did what.

Read by the console's audit page and the platform admin's shop page. The audit rows
store references (``staff:1``, ``reward:5``); this module asks for a page of
rows through :func:`loyalchat.tenants.audit.entries` (filtered by kind and person) and
for the names those references point at (:mod:`loyalchat.purchases.names`, one query per
kind of name), and hands the template structured rows it words with the core i18n.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pluggy
from babel.dates import format_timedelta

from loyalchat import i18n
from loyalchat.extensions import plugin_info
from loyalchat.i18n import N_
from loyalchat.purchases import names
from loyalchat.rewards.codes import display as display_code
from loyalchat.tenants import accounts, audit

PER_PAGE = 50
# The filter tabs, in the order shown; "" is the default view (everything but sign-ins).
KIND_LABELS = {
    "": N_("All changes"),
    "rewards": N_("Rewards and coupons"),
    "members": N_("Members"),
    "rules": N_("Points rules"),
    "staff": N_("Staff and API keys"),
    "plugins": N_("Plugins"),
    "shop": N_("Shop"),
    "signin": N_("Sign-ins"),
}


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry: ``action`` picks the sentence; ``who`` and ``target`` are names (""
    when the row is gone), ``extra`` the few values a sentence needs (a role, a status,
    the other member of a merge). ``action_key`` and ``target_ref`` are the log's own
    words, for the detail view."""

    id: int
    action: str
    who: str
    who_kind: str
    target: str
    extra: dict[str, str]
    created_at: datetime
    ago: str
    ip: str
    target_ref: str


def parse_kind(value: str | None) -> str | None:
    """A kind from the query string; None (the default view) for none or an unknown one."""
    return value if value in audit.KINDS else None


def parse_person(value: str | None) -> int | None:
    """A staff user id from the query string; None (everyone) for anything else. The log
    is the current shop's, so the id of someone who is not its staff finds nothing."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


async def staff_choices() -> list[dict[str, Any]]:
    """This shop's staff for the person filter: id and name."""
    return [
        {"id": row["user_id"], "name": row["display_name"] or row["email"]}
        for row in await accounts.staff_of_current_tenant()
    ]


async def audit_rows(
    kind: str | None,
    person: int | None,
    locale: str,
    *,
    page: int = 1,
    pm: pluggy.PluginManager | None = None,
) -> tuple[list[AuditRow], bool]:
    """A page of the log as :class:`AuditRow`; and whether an older page exists. With
    ``pm``, a plugin is named by its title in ``locale``."""
    actor = f"staff:{person}" if person is not None else None
    found = await audit.entries(kind, actor, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    found, has_more = found[:PER_PAGE], len(found) > PER_PAGE
    targets = [row["target"] for row in found]
    actors = await names.actor_names(
        [row["actor"] for row in found]
        + [t for t in targets if t.startswith(("staff:", "api_key:"))]
    )
    members = await names.member_numbers(names.ref_ids(targets, "member"))
    rewards = await names.reward_names(names.ref_ids(targets, "reward"), locale)
    rules = await names.rule_names(names.ref_ids(targets, "earning_rule"), locale)
    codes = await names.grant_codes(names.ref_ids(targets, "grant"))
    now = datetime.now(UTC)
    babel = i18n.babel_locale(locale)
    rows = []
    for row in found:
        kind_of_target, target_id = names.split_ref(row["target"])
        before, after = _dict(row["before"]), _dict(row["after"])
        target = ""
        if kind_of_target == "member":
            target = members.get(target_id or 0, "")
        elif kind_of_target == "reward":
            target = (
                rewards.get(target_id or 0, "") or _name(after, locale) or _name(before, locale)
            )
        elif kind_of_target == "earning_rule":
            target = rules.get(target_id or 0, "") or _name(after, locale) or _name(before, locale)
        elif kind_of_target == "grant":
            target = display_code(codes.get(target_id or 0, ""))  # as the wallet shows it
        elif kind_of_target in ("staff", "api_key"):
            target = actors[row["target"]].name if row["target"] in actors else ""
            target = target or _name(after, locale)
        elif kind_of_target == "plugin":
            target = row["target"].partition(":")[2]
            if pm is not None:
                target = plugin_info.describe(pm, target, locale).title
        who = actors.get(row["actor"], names.Actor("system", ""))
        created = row["created_at"]
        rows.append(
            AuditRow(
                id=row["id"],
                action=row["action"],
                who=who.name or (row["actor_label"] if who.kind != "system" else ""),
                who_kind=who.kind,
                target=target,
                extra={
                    "role": str(after.get("role", "")),
                    "status": str(after.get("status", "")),
                    "absorbed": str(before.get("absorbed", "")),
                    "reason": str(after.get("reason", "") or ""),
                },
                created_at=created,
                ago=format_timedelta(created - now, add_direction=True, locale=babel),
                ip=row["ip"],
                target_ref=row["target"],
            )
        )
    return rows, has_more


def _dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _name(values: dict[str, Any], locale: str) -> str:
    return names.localized(values.get("name", ""), locale) if values.get("name") else ""

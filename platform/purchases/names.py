"""Names for the references rows carry (``staff:3``, ``api_key:7``, ``member:12``,
``grant:5``, ``reward:2``, ``earning_rule:4``), looked up a page at a time.

The ledger and the audit log store who acted and what was touched as references; a
reader wants "Demo Owner", "M000001" and "免費咖啡". Each function here takes all the ids
of a page and asks one query, so a page of rows costs a fixed number of queries.
Everything read is the current tenant's (through :mod:`loyalchat.scoping`), except staff
accounts, which belong to no one tenant and are asked only by the ids a tenant's own rows
name.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from loyalchat.members.tables import Member
from loyalchat.rewards import text
from loyalchat.rewards.tables import Grant, Reward
from loyalchat.rules.tables import EarningRule
from loyalchat.scoping import scoped_select
from loyalchat.tenants.tables import ApiKey, StaffUser

# Ids past this many digits name no row (and would overflow an integer column).
MAX_ID_DIGITS = 18


def split_ref(reference: str) -> tuple[str, int | None]:
    """``"grant:5"`` -> ``("grant", 5)``; the id is None when it is not a plain number."""
    kind, _, raw_id = reference.partition(":")
    ok = raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= MAX_ID_DIGITS
    return kind, int(raw_id) if ok else None


def ref_ids(refs: Iterable[str], kind: str) -> set[int]:
    """The ids of the references of one ``kind``."""
    found = set()
    for ref in refs:
        ref_kind, ref_id = split_ref(ref)
        if ref_kind == kind and ref_id is not None:
            found.add(ref_id)
    return found


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made an entry: ``kind`` is "staff", "api_key", "member" or "system"; ``name``
    the staff member's display name (else e-mail), the API key's name, or ""."""

    kind: str
    name: str


async def actor_names(refs: Iterable[str]) -> dict[str, Actor]:
    """``{"staff:3": Actor("staff", "Demo Owner"), ...}`` for actor refs as the ledger and
    the audit log store them; two queries at most, whatever the number of refs."""
    refs = set(refs)
    staff_ids = ref_ids(refs, "staff")
    key_ids = ref_ids(refs, "api_key")
    staff: dict[int, str] = {}
    if staff_ids:
        # Staff accounts belong to no one tenant; only ids this tenant's rows name are asked.
        for row in await StaffUser.select(
            StaffUser.id, StaffUser.display_name, StaffUser.email
        ).where(StaffUser.id.is_in(sorted(staff_ids))):
            staff[row["id"]] = row["display_name"] or row["email"]
    keys: dict[int, str] = {}
    if key_ids:
        for row in await scoped_select(ApiKey, ApiKey.id, ApiKey.name).where(
            ApiKey.id.is_in(sorted(key_ids))
        ):
            keys[row["id"]] = row["name"]
    out: dict[str, Actor] = {}
    for ref in refs:
        kind, number = split_ref(ref)
        if kind == "staff":
            out[ref] = Actor("staff", staff.get(number, "") if number is not None else "")
        elif kind == "api_key":
            out[ref] = Actor("api_key", keys.get(number, "") if number is not None else "")
        elif kind == "member":
            out[ref] = Actor("member", "")
        else:
            out[ref] = Actor("system", "")
    return out


async def member_numbers(member_ids: Iterable[int]) -> dict[int, str]:
    """Member numbers of the current tenant's members by id (one query)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    rows = await scoped_select(Member, Member.id, Member.member_no).where(Member.id.is_in(ids))
    return {row["id"]: row["member_no"] for row in rows}


async def reward_names_of_grants(grant_ids: Iterable[int], locale: str) -> dict[int, str]:
    """The reward's name in ``locale`` for each grant id (one query, grant joined to reward)."""
    ids = sorted(set(grant_ids))
    if not ids:
        return {}
    rows = (
        await scoped_select(Grant, Grant.id, Grant.reward.name.as_alias("reward_name"))
        .where(Grant.id.is_in(ids))
        .output(load_json=True)
    )
    return {row["id"]: text.pick(_texts(row["reward_name"]), locale) for row in rows}


async def reward_names(reward_ids: Iterable[int], locale: str) -> dict[int, str]:
    """Reward names in ``locale`` by reward id (one query)."""
    ids = sorted(set(reward_ids))
    if not ids:
        return {}
    rows = (
        await scoped_select(Reward, Reward.id, Reward.name)
        .where(Reward.id.is_in(ids))
        .output(load_json=True)
    )
    return {row["id"]: text.pick(_texts(row["name"]), locale) for row in rows}


async def grant_codes(grant_ids: Iterable[int]) -> dict[int, str]:
    """Coupon codes by grant id (one query)."""
    ids = sorted(set(grant_ids))
    if not ids:
        return {}
    rows = await scoped_select(Grant, Grant.id, Grant.code).where(Grant.id.is_in(ids))
    return {row["id"]: row["code"] for row in rows}


async def rule_names(rule_ids: Iterable[int], locale: str) -> dict[int, str]:
    """Earning rule names by id (one query); a name in three languages is picked in ``locale``."""
    ids = sorted(set(rule_ids))
    if not ids:
        return {}
    rows = await scoped_select(EarningRule, EarningRule.id, EarningRule.name).where(
        EarningRule.id.is_in(ids)
    )
    return {row["id"]: localized(row["name"], locale) for row in rows}


def localized(value: Any, locale: str) -> str:
    """A stored name that is plain text or ``{"zh-Hant": ..., "en": ...}``: as a dict, as
    JSON, or as the audit log keeps a dict it was given (its ``str()``)."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            try:
                value = ast.literal_eval(value)  # literals only: never runs code
            except (ValueError, SyntaxError):
                return value
    if isinstance(value, dict):
        return text.pick({k: v for k, v in value.items() if isinstance(v, str)}, locale)
    return str(value or "")


def _texts(value: Any) -> dict[str, str]:
    return value if isinstance(value, dict) else {}

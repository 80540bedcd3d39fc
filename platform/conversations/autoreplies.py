"""The merchant's auto-replies: keyword rules, the welcome and the default reply. The only
writer of ``auto_reply``.

A keyword rule matches a message ``exact`` (the whole message), ``contains`` (anywhere in
it) or by ``regex`` (run in a child process with a time limit:
:mod:`loyalchat.conversations.autoreply_regex`). Exact and contains ignore case, width,
surrounding punctuation and the Chinese script (a rule typed in Traditional answers a
member writing Simplified). Rules are tried by ``priority`` (highest first), then exact
before contains before regex, then oldest first; a rule with a ``language`` only answers
members in that language. The ``welcome`` follows the bot's own greeting when a member
joins; the ``default`` answers what nothing else did. Replies are stored in the three
languages (:func:`loyalchat.texts.clean` fills the missing Chinese script).

The bot's built-in commands (STOP, the card, rewards...) come before any rule:
:mod:`loyalchat.bot.engine` says in which order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from loyalchat import db
from loyalchat import texts as shop_texts
from loyalchat.conversations import autoreply_regex
from loyalchat.conversations.tables import AutoReply, ReplyMatch
from loyalchat.domain import DomainError, NotFound
from loyalchat.languages import LOCALES, to_simplified
from loyalchat.scoping import new_row, save_row, scoped_delete, scoped_select, scoped_update
from loyalchat.tenants import audit

__all__ = [
    "AutoReplyIn",
    "AutoReplyOut",
    "Matched",
    "auto_reply_problems",
    "create_auto_reply",
    "default_text",
    "delete_auto_reply",
    "find_reply",
    "get_auto_reply",
    "list_auto_replies",
    "try_text",
    "update_auto_reply",
    "welcome_text",
]

MAX_PATTERN = 200  # the column's length
MAX_REPLY = 1000  # characters per language: a chat message, not a page
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
MAX_RULES = 200  # per shop: every message is tried against them
KEYWORD_KINDS = (ReplyMatch.exact.value, ReplyMatch.contains.value, ReplyMatch.regex.value)
_KIND_ORDER = {kind: n for n, kind in enumerate(KEYWORD_KINDS)}
_STRIP = (
    "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
    + "。！？，、：；「」『』（）　 "
)


class AutoReplyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rule as the console's form (or the API) gives it. ``reply``: a text in one
    language or ``{zh-Hant, zh-Hans, en}``."""

    match: str = ReplyMatch.exact.value
    pattern: str = ""
    reply: dict[str, str] | str = msgspec.field(default_factory=dict)
    language: str = ""  # "" for every member
    priority: int = 0
    active: bool = True


@dataclass(frozen=True, slots=True)
class AutoReplyOut:
    id: int
    match: str
    pattern: str
    reply: dict[str, str]
    language: str
    priority: int
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Matched:
    """Which rule answered a message (``rule_id`` 0 for a draft being tried) and how."""

    rule_id: int | None
    match: str  # exact / contains / regex / default, or "" when nothing answered
    reply: str  # in the member's language
    timed_out: tuple[int, ...] = ()  # regex rules that ran out of time on this message


def _out(row: Mapping[str, Any]) -> AutoReplyOut:
    reply = row["reply"] if isinstance(row["reply"], dict) else {}
    return AutoReplyOut(
        id=row["id"],
        match=row["match"],
        pattern=row["pattern"],
        reply=shop_texts.filled(reply),
        language=row["language"],
        priority=row["priority"],
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# --- validation ------------------------------------------------------------------------


def auto_reply_problems(data: AutoReplyIn) -> dict[str, str]:
    """Every problem of a rule, by field ({} when it can be saved): a form shows them all."""
    problems: dict[str, str] = {}
    kinds = {kind.value for kind in ReplyMatch}
    if data.match not in kinds:
        problems["match"] = "choose exact, contains, regex, welcome or default"
    pattern = data.pattern.strip()
    if data.match in KEYWORD_KINDS:
        if not pattern:
            problems["pattern"] = "a keyword rule needs a pattern"
        elif len(pattern) > MAX_PATTERN or not pattern.isprintable():
            problems["pattern"] = f"at most {MAX_PATTERN} printable characters"
        elif data.match == ReplyMatch.regex.value:
            try:
                re.compile(pattern)
            except Exception as exc:  # re.error, RecursionError, OverflowError...
                problems["pattern"] = f"not a regular expression: {exc}"
    elif pattern:
        problems["pattern"] = "a welcome or default reply has no pattern"
    try:
        reply = shop_texts.clean(data.reply, max_length=MAX_REPLY)
        if shop_texts.is_blank(reply):
            problems["reply"] = "write the reply in at least one language"
    except ValueError as exc:
        problems["reply"] = str(exc)
    if data.language not in ("", *LOCALES):
        problems["language"] = "one of zh-Hant, zh-Hans, en, or any"
    if isinstance(data.priority, bool) or not MIN_PRIORITY <= data.priority <= MAX_PRIORITY:
        problems["priority"] = f"a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}"
    return problems


def _values(data: AutoReplyIn) -> dict[str, Any]:
    problems = auto_reply_problems(data)
    if problems:
        summary = "; ".join(f"{name}: {message}" for name, message in problems.items())
        raise DomainError(summary, code="invalid_auto_reply", errors=problems)
    return {
        "match": data.match,
        "pattern": data.pattern.strip(),
        "reply": shop_texts.clean(data.reply, max_length=MAX_REPLY),
        "language": data.language,
        "priority": data.priority,
        "active": bool(data.active),
    }


# --- reading and writing ---------------------------------------------------------------


async def list_auto_replies() -> list[AutoReplyOut]:
    """The current tenant's rules in the order they are tried (welcome and default too)."""
    rows = await (
        scoped_select(AutoReply)
        .order_by(AutoReply.priority, ascending=False)
        .order_by(AutoReply.id)
        .limit(MAX_RULES)
        .output(load_json=True)
    )
    return sorted((_out(row) for row in rows), key=_order)


async def get_auto_reply(rule_id: int) -> AutoReplyOut:
    """One rule of the current tenant; ``NotFound`` otherwise."""
    row = (
        await scoped_select(AutoReply).where(AutoReply.id == rule_id).output(load_json=True).first()
    )
    if row is None:
        raise NotFound("no such auto-reply", code="not_found")
    return _out(row)


async def create_auto_reply(data: AutoReplyIn) -> AutoReplyOut:
    """A new rule (``invalid_auto_reply`` with ``errors`` by field; ``too_many_rules``)."""
    values = _values(data)
    async with db.write_transaction():
        if len(await scoped_select(AutoReply, AutoReply.id).limit(MAX_RULES)) >= MAX_RULES:
            raise DomainError(f"a shop has at most {MAX_RULES} auto-replies", code="too_many_rules")
        row = new_row(AutoReply, **values)
        await save_row(row)
        await audit.record("auto_reply.create", f"auto_reply:{row.id}", after=values)
    return await get_auto_reply(row.id)


async def update_auto_reply(rule_id: int, data: AutoReplyIn) -> AutoReplyOut:
    """Replace a rule's fields with ``data`` (checked as for a new one); audited."""
    values = _values(data)
    before = await get_auto_reply(rule_id)
    changes = {getattr(AutoReply, name): value for name, value in values.items()}
    changes[AutoReply.updated_at] = datetime.now(UTC)
    async with db.write_transaction():
        await scoped_update(AutoReply, changes).where(AutoReply.id == rule_id)
        await audit.record(
            "auto_reply.update",
            f"auto_reply:{rule_id}",
            before={name: getattr(before, name) for name in values},
            after=values,
        )
    return await get_auto_reply(rule_id)


async def delete_auto_reply(rule_id: int) -> None:
    """Remove a rule; ``NotFound`` for another tenant's (or a missing) one."""
    before = await get_auto_reply(rule_id)
    async with db.write_transaction():
        await scoped_delete(AutoReply).where(AutoReply.id == rule_id)
        await audit.record(
            "auto_reply.delete",
            f"auto_reply:{rule_id}",
            before={"match": before.match, "pattern": before.pattern, "reply": before.reply},
        )


# --- matching --------------------------------------------------------------------------


def _order(rule: AutoReplyOut) -> tuple[int, int, int]:
    return (-rule.priority, _KIND_ORDER.get(rule.match, len(KEYWORD_KINDS)), rule.id)


def _folded(text: str) -> str:
    """Compared form: NFKC, case-folded, single spaces, no surrounding punctuation, and
    Simplified characters (so either Chinese script matches)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip(_STRIP).casefold()
    return to_simplified(" ".join(cleaned.split()))


def _speaks(rule: AutoReplyOut, locale: str) -> bool:
    return not rule.language or rule.language == locale


async def _rules(kinds: Sequence[str]) -> list[AutoReplyOut]:
    rows = await (
        scoped_select(AutoReply)
        .where((AutoReply.active == True) & AutoReply.match.is_in(list(kinds)))  # noqa: E712
        .limit(MAX_RULES)
        .output(load_json=True)
    )
    return sorted((_out(row) for row in rows), key=_order)


async def _first_match(
    rules: Sequence[AutoReplyOut], text: str, locale: str
) -> tuple[AutoReplyOut | None, tuple[int, ...]]:
    folded = _folded(text)
    plain = unicodedata.normalize("NFKC", text or "")
    timed_out: list[int] = []
    for rule in rules:
        if not _speaks(rule, locale) or rule.match not in KEYWORD_KINDS:
            continue
        if rule.match == ReplyMatch.exact.value:
            found = folded == _folded(rule.pattern)
        elif rule.match == ReplyMatch.contains.value:
            needle = _folded(rule.pattern)
            found = bool(needle) and needle in folded
        else:
            result = await autoreply_regex.search(rule.pattern, plain)
            if result is None:
                timed_out.append(rule.id)
            found = bool(result)
        if found:
            return rule, tuple(timed_out)
    return None, tuple(timed_out)


async def find_reply(text: str, locale: str) -> Matched | None:
    """The keyword rule that answers ``text`` for a member reading ``locale``, or None."""
    rule, timed_out = await _first_match(await _rules(KEYWORD_KINDS), text, locale)
    if rule is None:
        return None
    return Matched(rule.id, rule.match, shop_texts.pick(rule.reply, locale), timed_out)


async def _standing_text(kind: str, locale: str) -> str:
    for rule in await _rules([kind]):
        if _speaks(rule, locale):
            return shop_texts.pick(rule.reply, locale)
    return ""


async def welcome_text(locale: str) -> str:
    """The shop's welcome for a member reading ``locale``, or "" when it has none."""
    return await _standing_text(ReplyMatch.welcome.value, locale)


async def default_text(locale: str) -> str:
    """The shop's reply when nothing else answered, or "" (the bot's own default then)."""
    return await _standing_text(ReplyMatch.default.value, locale)


async def try_text(
    text: str, locale: str, *, draft: AutoReplyIn | None = None, draft_id: int | None = None
) -> Matched:
    """What the shop's rules answer ``text`` with, for the console's "try it" box.

    ``draft`` (a rule not saved yet, checked like one being saved) is tried with the saved
    rules, in place of rule ``draft_id`` when it is an edit; it reports ``rule_id`` 0 (or
    ``draft_id``). Falls back to the default reply (``match="default"``), else
    ``match=""``. The bot's built-in commands answer before any rule (not shown here).
    """
    rules = [rule for rule in await list_auto_replies() if rule.active and rule.id != draft_id]
    if draft is not None and (values := _values(draft))["active"]:
        now = datetime.now(UTC)
        rules.append(AutoReplyOut(id=draft_id or 0, created_at=now, updated_at=now, **values))
        rules.sort(key=_order)
    rule, timed_out = await _first_match(rules, text, locale)
    if rule is not None:
        return Matched(rule.id, rule.match, shop_texts.pick(rule.reply, locale), timed_out)
    for rule in rules:
        if rule.match == ReplyMatch.default.value and _speaks(rule, locale):
            reply = shop_texts.pick(rule.reply, locale)
            return Matched(rule.id, rule.match, reply, timed_out)
    return Matched(None, "", "", timed_out)

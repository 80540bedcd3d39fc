"""A shop's branches, and the branch a conversation last joined through.

**Branches** are rows of ``qr_branch`` (code + name in three languages), edited in the
console's QR kit; a code goes into the join QR as ``<slug>#<code>`` (:mod:`.codes`).

**Which branch** a conversation belongs to is read, not stored: every join is already a
stored inbound message (``JOIN alpha-tea#central`` typed or prefilled, or the WeChat
``follow alpha-tea#central`` event with the QR's scene), so the branch is the one named by
the conversation's latest join, when it is one of the shop's branches now. Nothing new is
written on the chat's hot path, a replayed webhook cannot move it, and a code a member
types by hand names no branch unless the shop has it.

Every function works on the current tenant (``loyalchat.context``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loyalchat import db
from loyalchat.bot.words import join_code as typed_join_code
from loyalchat.conversations.tables import InboundMessage, MessageKind
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.qrkit.codes import split_code, valid_branch
from loyalchat.qrkit.tables import QrBranch
from loyalchat.scoping import new_row, scoped_delete, scoped_insert, scoped_select, scoped_update
from loyalchat.tenants import audit
from loyalchat.tenants.service import current_tenant
from loyalchat.texts import clean

MAX_BRANCHES = 50  # a sticker sheet per branch; more than a chain of small shops needs
NAME_MAX = 60
# How many of a conversation's latest join-looking messages are read to find the last join.
_LOOK_BACK = 20


@dataclass(frozen=True, slots=True)
class Branch:
    id: int
    code: str
    name: dict[str, str]

    def label(self, locale: str) -> str:
        """The name in ``locale`` (another language's when that one is empty), else the code."""
        return self.name.get(locale) or next((v for v in self.name.values() if v), self.code)


def _out(row: dict[str, Any]) -> Branch:
    name = row["name"] if isinstance(row["name"], dict) else {}
    return Branch(id=row["id"], code=row["code"], name={k: str(v) for k, v in name.items()})


async def list_branches() -> list[Branch]:
    """The shop's branches, oldest first."""
    rows = (
        await scoped_select(QrBranch)
        .order_by(QrBranch.id)
        .limit(MAX_BRANCHES)
        .output(load_json=True)
    )
    return [_out(row) for row in rows]


async def get_branch(code: str) -> Branch | None:
    """The shop's branch with ``code``, or None (another shop's code is None too)."""
    if not valid_branch(code):
        return None
    row = await scoped_select(QrBranch).where(QrBranch.code == code).output(load_json=True).first()
    return _out(row) if row else None


async def branch_by_id(branch_id: int) -> Branch:
    """The shop's branch ``branch_id``; ``NotFound`` otherwise (another shop's too)."""
    row = (
        await scoped_select(QrBranch).where(QrBranch.id == branch_id).output(load_json=True).first()
    )
    if row is None:
        raise NotFound("no such branch", code="not_found")
    return _out(row)


def clean_name(value: object) -> dict[str, str]:
    """A branch name as stored (three languages, the other Chinese script filled); raises
    ``DomainError`` when it is empty, too long or holds what cannot be stored."""
    try:
        name = clean(value, max_length=NAME_MAX)
    except ValueError as exc:
        raise DomainError(str(exc), code="invalid_name") from None
    if not any(name.values()):
        raise DomainError("a branch needs a name", code="name_required")
    return name


async def add_branch(code: str, name: object) -> Branch:
    """A new branch; ``Conflict`` when the shop has the code already (the unique index
    decides), ``DomainError`` for a bad code or name or too many branches."""
    code = code.strip().lower()
    if not valid_branch(code):
        raise DomainError("1-16 lower-case letters, digits or dashes", code="invalid_code")
    stored = clean_name(name)
    async with db.write_transaction():
        if len(await list_branches()) >= MAX_BRANCHES:
            raise DomainError("too many branches", code="too_many")
        inserted = (
            await scoped_insert(QrBranch, new_row(QrBranch, code=code, name=stored))
            .on_conflict(action="DO NOTHING")
            .returning(QrBranch.id)
        )
        if not inserted:
            raise Conflict("this branch code is taken", code="code_taken")
        await audit.record(
            "qrkit.branch_add",
            f"qr_branch:{inserted[0]['id']}",
            after={"code": code, "name": stored},
        )
    return Branch(id=inserted[0]["id"], code=code, name=stored)


async def rename_branch(branch_id: int, name: object) -> Branch:
    """New names for the shop's branch ``branch_id`` (its code, printed on QR codes, stays);
    ``NotFound`` before any check of the names."""
    await branch_by_id(branch_id)
    stored = clean_name(name)
    async with db.write_transaction():
        rows = (
            await scoped_update(QrBranch, {QrBranch.name: stored})
            .where(QrBranch.id == branch_id)
            .returning(QrBranch.id, QrBranch.code)
        )
        if not rows:
            raise NotFound("no such branch", code="not_found")
        await audit.record("qrkit.branch_rename", f"qr_branch:{branch_id}", after={"name": stored})
    return Branch(id=branch_id, code=rows[0]["code"], name=stored)


async def remove_branch(branch_id: int) -> None:
    """Forget the shop's branch ``branch_id``: its printed QR codes still join members, to
    no branch."""
    async with db.write_transaction():
        rows = (
            await scoped_delete(QrBranch)
            .where(QrBranch.id == branch_id)
            .returning(QrBranch.id, QrBranch.code)
        )
        if not rows:
            raise NotFound("no such branch", code="not_found")
        await audit.record(
            "qrkit.branch_remove", f"qr_branch:{branch_id}", before={"code": rows[0]["code"]}
        )


def _code_of(kind: str, text: str) -> str | None:
    """The join code of a stored message (``""`` for a join without one), None when the
    message is no join."""
    if kind == MessageKind.event.value:
        word, _, scene = (text or "").partition(" ")
        return scene.strip() if word == "follow" else None
    return typed_join_code(text)


async def branch_of_conversation(conversation_id: int) -> str:
    """The code of the branch whose QR the conversation last joined (or scanned) through,
    "" when the last join named none, names one the shop does not have, or there is none.

    The receipt pipeline reads it to attribute a receipt to a store.
    """
    text = InboundMessage.text
    # SQLite's LIKE already ignores ASCII case (and Piccolo warns on its ILIKE).
    joins = text.like("join%") if text._meta.engine_type == "sqlite" else text.ilike("join%")
    rows = (
        await scoped_select(InboundMessage, InboundMessage.kind, InboundMessage.text)
        .where(
            (InboundMessage.conversation == conversation_id)
            & InboundMessage.kind.is_in([MessageKind.text.value, MessageKind.event.value])
            & (joins | text.like("加入%") | text.like("follow%"))
        )
        .order_by(InboundMessage.id, ascending=False)
        .limit(_LOOK_BACK)
    )
    for row in rows:
        code = _code_of(row["kind"], row["text"])
        if code is None:
            continue
        slug, branch = split_code(code)
        if not branch or slug not in ("", (await current_tenant()).slug):
            return ""
        found = await get_branch(branch)
        return found.code if found else ""
    return ""

"""The purchases domain sits above members, ledger, rules and rewards (issue 9, "Shape").

Below it, nothing imports it; the ledger knows nothing of rules, the rules (a calculator
and their own tables) nothing of the ledger or members, and members nothing of rewards or
the ledger. Its results carry what a caller shows, so no controller reads again.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

from loyalchat.context import Actor, tenant_context
from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.purchases import service as purchases
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Grant, Reward
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import new_row, scoped_select
from tests.fixtures import World

PLATFORM = Path(__file__).resolve().parents[1] / "platform"
CASHIER = Actor("staff", 2, "Cashier")
# domain folder -> loyalchat packages none of its modules may import
FORBIDDEN = {
    "ledger": ("purchases", "rules", "rewards"),
    "rules": ("purchases", "ledger", "members", "rewards"),
    "members": ("purchases", "ledger", "rewards", "rules"),
    "rewards": ("purchases", "rules"),
}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_lower_domains_do_not_reach_up_or_sideways() -> None:
    found = []
    for domain, banned in FORBIDDEN.items():
        for path in sorted((PLATFORM / domain).rglob("*.py")):
            if "piccolo_migrations" in path.parts:
                continue
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "loyalchat" and len(parts) > 1 and parts[1] in banned:
                    found.append(f"{path.relative_to(PLATFORM)} imports {name}")
    assert found == []


def test_the_calculator_touches_no_database() -> None:
    imported = _imports(PLATFORM / "rules" / "calculator.py")
    assert "piccolo" not in {name.split(".")[0] for name in imported}
    packages = {".".join(name.split(".")[:2]) for name in imported}
    assert not packages & {"loyalchat.db", "loyalchat.scoping", "loyalchat.ledger"}


async def test_a_purchase_result_carries_its_entry(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await rules.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        member = await members.create_member(MemberCreate(name="Amy"))
        out = await purchases.record_purchase(member.id, Decimal("120"), reference=" POS-1 ")
        assert out.entry is not None and out.entry_id == out.entry.id
        assert out.entry == await ledger.get_entry(out.entry.id)
        assert (out.amount, out.reference, out.balance) == (Decimal("120.00"), "POS-1", 120)
        assert out.entry.balance_after == out.balance

        again = await purchases.record_purchase(member.id, Decimal("120.00"), reference="POS-1")
        assert again.replayed and again.entry is not None
        assert (again.entry.id, again.amount, again.reference) == (
            out.entry.id,
            out.amount,
            "POS-1",
        )

        nothing = await purchases.record_purchase(member.id, Decimal("0.50"), reference="POS-2")
        assert (nothing.entry, nothing.entry_id, nothing.points) == (None, None, 0)
        assert (nothing.amount, nothing.reference, nothing.balance) == (
            Decimal("0.50"),
            "POS-2",
            120,
        )


async def _grant(member_id: int, code: str) -> int:
    reward = new_row(Reward, name={"en": "Coffee"}, points_cost=10, type="coupon")
    await reward.save()
    grant = new_row(
        Grant, reward=reward.id, member=member_id, code=code, points_cost=10, idempotency_key=code
    )
    await grant.save()
    return grant.id


async def test_move_grants_moves_one_members_grants_of_this_tenant_only(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_b.id, CASHIER):
        theirs = await members.create_member(MemberCreate(name="Bea"))
        their_grant = await _grant(theirs.id, "B-1")
    with tenant_context(tenant_a.id, CASHIER):
        one = await members.create_member(MemberCreate(name="One"))
        two = await members.create_member(MemberCreate(name="Two"))
        other = await members.create_member(MemberCreate(name="Other"))
        moved = [await _grant(one.id, "A-1"), await _grant(one.id, "A-2")]
        kept = await _grant(other.id, "A-3")
        assert await rewards.move_grants(one.id, two.id) == 2
        assert await rewards.move_grants(theirs.id, two.id) == 0  # B's member: not found here
        owners = {
            row["id"]: row["member"] for row in await scoped_select(Grant, Grant.id, Grant.member)
        }
        assert owners == {moved[0]: two.id, moved[1]: two.id, kept: other.id}
    with tenant_context(tenant_b.id, CASHIER):
        row = await scoped_select(Grant, Grant.member).where(Grant.id == their_grant).first()
        assert row == {"member": theirs.id}

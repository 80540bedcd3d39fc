"""Two tenants: every members function run as tenant A leaves tenant B's members alone."""

from __future__ import annotations

import pytest

from loyalchat.context import Actor, NoTenantContext, tenant_context
from loyalchat.domain import NotFound
from loyalchat.members import service
from loyalchat.members.schemas import MemberCreate, MemberUpdate
from loyalchat.purchases import service as purchases
from tests.fixtures import World

BSUID = "US.13491208655302741918"


def staff(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, "Owner"))


async def test_tenant_a_cannot_see_or_touch_b_members(tenant_a: World, tenant_b: World) -> None:
    with staff(tenant_b):
        await service.set_number_format("B{seq:04d}")
        theirs = await service.create_member(
            MemberCreate(name="Chan Tai Man", phone="9123 4567"), identity=("whatsapp", BSUID)
        )
        their_dup = await service.create_member(MemberCreate(name="Chan Dup"))
    with staff(tenant_a):
        ours = await service.create_member(MemberCreate(name="Wong"))
        assert ours.member_no == "M000001"  # numbering is per tenant
        assert await service.number_format() == "M{seq:06d}"

        not_found = [
            service.get_member(theirs.member_no),
            service.get_member_by_id(theirs.id),
            service.update_member(theirs.member_no, MemberUpdate(name="Hijacked")),
            service.identities(theirs.id),
            service.add_identity(theirs.id, "wechat", "oEvil"),
            service.remove_identity(theirs.id, "whatsapp", BSUID),
            purchases.merge_members(ours.member_no, theirs.member_no, "steal"),
            purchases.merge_members(theirs.member_no, ours.member_no, "steal"),
            purchases.merge_members(theirs.member_no, their_dup.member_no, "meddle"),
        ]
        for call in not_found:
            with pytest.raises(NotFound):
                await call

        for q in ("", "chan", "chan tia man", "91234567", theirs.member_no):
            page = await service.search_members(q, limit=100)
            assert theirs.id not in {m.id for m in page.items}
            assert page.total == (1 if q == "" else 0)
        assert await service.find_by_identity("whatsapp", BSUID) is None
        # The same WhatsApp user joining tenant A becomes A's own member.
        joined, created = await service.join_by_identity("whatsapp", [BSUID])
        assert created and joined.id != theirs.id and joined.member_no == "M000002"

    with staff(tenant_b):
        again = await service.get_member(theirs.member_no)
        linked = await service.identities(theirs.id)
        dup = await service.get_member(their_dup.member_no)
    assert again == theirs
    assert [(i.channel, i.external_id) for i in linked] == [("whatsapp", BSUID)]
    assert dup.status == "active"


async def test_no_tenant_no_members(tenant_a: World) -> None:
    for call in (
        service.create_member(),
        service.search_members(),
        service.get_member("M000001"),
        service.join_by_identity("whatsapp", [BSUID]),
        service.number_format(),
    ):
        with pytest.raises(NoTenantContext):
            await call

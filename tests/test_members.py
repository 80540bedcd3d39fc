"""Members on PostgreSQL: numbering under concurrency, identities, profile rules, search.

Merging is in test_members_merge.py, tenant isolation in test_members_isolation.py and
the SQLite variants in test_members_sqlite.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.hookimpl import hookimpl
from loyalchat.members import service
from loyalchat.members.schemas import MemberCreate, MemberUpdate
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.tenants import audit
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.fixtures import World

BSUID = "US.13491208655302741918"


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def staff(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, "Owner"))


# --- numbering ------------------------------------------------------------------------


async def test_64_concurrent_creates_number_1_to_64_without_gaps(tenant_a: World) -> None:
    with staff(tenant_a):
        members = await asyncio.gather(*(service.create_member() for _ in range(64)))
        numbers = sorted(member.member_no for member in members)
        assert numbers == [f"M{n:06d}" for n in range(1, 65)]
        assert (await service.search_members(limit=100)).total == 64


async def test_a_rolled_back_create_leaves_no_gap(tenant_a: World) -> None:
    with staff(tenant_a):
        first = await service.create_member(identity=("wechat", "oAbc123"))
        with pytest.raises(Conflict) as taken:
            await service.create_member(MemberCreate(name="Dup"), identity=("wechat", "oAbc123"))
        assert taken.value.code == "identity_taken"
        second = await service.create_member()
    assert (first.member_no, second.member_no) == ("M000001", "M000002")


async def test_custom_number_format(tenant_a: World) -> None:
    with staff(tenant_a):
        assert await service.number_format() == "M{seq:06d}"
        first = await service.create_member()
        assert await service.set_number_format(" HK-{seq:05d} ") == "HK-{seq:05d}"
        assert await service.number_format() == "HK-{seq:05d}"
        second = await service.create_member()
        entries = await audit.recent()
    assert (first.member_no, second.member_no) == ("M000001", "HK-00002")
    changes = [e for e in entries if e["action"] == "member.number_format"]
    assert [(_json(e["before"]), _json(e["after"])) for e in changes] == [
        ({"number_format": "M{seq:06d}"}, {"number_format": "HK-{seq:05d}"})
    ]


async def test_format_set_before_the_first_member(tenant_a: World) -> None:
    with staff(tenant_a):
        await service.set_number_format("VIP{seq}")
        assert (await service.create_member()).member_no == "VIP1"


@pytest.mark.parametrize(
    "fmt",
    [
        "",
        "M000",  # no {seq}
        "{name}",
        "{seq.__class__}",
        "{seq!r}",
        "{seq:.2f}",
        "{seq:6d}",  # space padding
        "A B{seq}",
        "M/{seq}",
        "{seq",
        "X" * 30 + "{seq}",  # too long once rendered
        "M\t{seq}",
    ],
)
async def test_bad_number_formats_are_refused(tenant_a: World, fmt: str) -> None:
    with staff(tenant_a), pytest.raises(DomainError) as refused:
        await service.set_number_format(fmt)
    assert refused.value.code == "invalid_number_format"


async def test_a_new_format_never_reuses_a_number(tenant_a: World) -> None:
    with staff(tenant_a):
        await service.set_number_format("9{seq}")
        made = [(await service.create_member()).member_no for _ in range(3)]  # 91 92 93
        await service.set_number_format("{seq}")
        for _ in range(88):
            made.append((await service.create_member()).member_no)
    assert made[:3] == ["91", "92", "93"]
    assert len(set(made)) == len(made)  # seq 91..93 skipped: "91".."93" were taken


# --- identities ------------------------------------------------------------------------


async def test_concurrent_joins_with_one_id_make_one_member(tenant_a: World) -> None:
    with tenant_context(tenant_a.id):
        results = await asyncio.gather(
            *(service.join_by_identity("whatsapp", [BSUID], name="Chan") for _ in range(16))
        )
        assert len({member.id for member, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        # The losers' numbers were rolled back with their inserts: no gap follows.
        assert (await service.create_member()).member_no == "M000002"
        assert (await service.search_members()).total == 2


async def test_whatsapp_bsuid_and_phone_are_one_member(tenant_a: World) -> None:
    with tenant_context(tenant_a.id):
        # Before usernames: known by phone only.
        member, created = await service.join_by_identity("whatsapp", ["85291234567"])
        assert created
        # A webhook with both: the BSUID is linked to the same member.
        again, created = await service.join_by_identity("whatsapp", [BSUID, "+852 9123 4567"])
        assert (again.id, created) == (member.id, False)
        # The phone may be omitted later: the BSUID alone finds the member.
        by_bsuid, created = await service.join_by_identity("whatsapp", [BSUID])
        assert (by_bsuid.id, created) == (member.id, False)
        linked = await service.identities(member.id)
        found = await service.find_by_identity("whatsapp", BSUID)
    assert [(i.channel, i.external_id) for i in linked] == [
        ("whatsapp", "85291234567"),
        ("whatsapp", BSUID),
    ]
    assert found is not None and found.id == member.id


async def test_an_id_of_another_member_is_not_stolen(tenant_a: World) -> None:
    with tenant_context(tenant_a.id):
        by_phone, _ = await service.join_by_identity("whatsapp", ["85291234567"])
        by_bsuid, _ = await service.join_by_identity("whatsapp", [BSUID])
        member, created = await service.join_by_identity("whatsapp", [BSUID, "85291234567"])
        assert (member.id, created) == (by_bsuid.id, False)  # the first id decides
        assert [i.external_id for i in await service.identities(by_phone.id)] == ["85291234567"]


async def test_identities_are_unique_per_channel_not_across_channels(tenant_a: World) -> None:
    with staff(tenant_a):
        one = await service.create_member(identity=("wechat", "same-id"))
        other = await service.create_member(identity=("webchat", "same-id"))
        assert one.id != other.id
        # Linking again is a no-op; linking to another member is refused.
        await service.add_identity(one.id, "wechat", "same-id")
        with pytest.raises(Conflict) as taken:
            await service.add_identity(other.id, "wechat", "same-id")
        assert taken.value.code == "identity_taken"
        added = await service.add_identity(other.id, "line", "U123")
        assert (added.member_id, added.channel) == (other.id, "line")
        await service.remove_identity(other.id, "line", "U123")
        with pytest.raises(NotFound):
            await service.remove_identity(other.id, "line", "U123")
        assert await service.find_by_identity("line", "U123") is None
        with pytest.raises(DomainError) as bad:
            await service.add_identity(one.id, "Bad Channel!", "x")
        assert bad.value.code == "invalid_channel"


async def test_member_joined_is_emitted_once(tenant_a: World) -> None:
    seen = []

    class Recorder:
        @hookimpl
        def on_event(self, event) -> None:
            seen.append(event)

    pm = current_plugin_manager()
    pm.register(Recorder(), name="members-recorder")
    try:
        with tenant_context(tenant_a.id):
            member, _ = await service.join_by_identity("wechat", ["oXyz"])
            await service.join_by_identity("wechat", ["oXyz"])
    finally:
        pm.unregister(name="members-recorder")
    joined = [e for e in seen if e.name == "member_joined"]
    assert [(e.tenant_id, e.data["member_no"], e.data["channel"]) for e in joined] == [
        (tenant_a.id, member.member_no, "wechat")
    ]


# --- profile ---------------------------------------------------------------------------


async def test_hong_kong_phone_is_stored_in_e164(tenant_a: World) -> None:
    with staff(tenant_a):
        member = await service.create_member(MemberCreate(phone="9123 4567"))
        abroad = await service.create_member(MemberCreate(phone="+86 138 0013 8000"))
    assert (member.phone, abroad.phone) == ("+85291234567", "+8613800138000")


async def test_mainland_shop_reads_phones_as_chinese(clean_db: None) -> None:
    shop = await tenant_service.create_tenant(
        "cn-shop", "CN", status=TenantStatus.active, currency="CNY", timezone="Asia/Shanghai"
    )
    with tenant_context(shop.id):
        member = await service.create_member(MemberCreate(phone="138 0013 8000"))
    assert member.phone == "+8613800138000"


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+852 1234"])
async def test_invalid_phone_is_refused_clearly(tenant_a: World, phone: str) -> None:
    with staff(tenant_a), pytest.raises(DomainError) as refused:
        await service.create_member(MemberCreate(name="X", phone=phone))
    assert refused.value.code == "invalid_phone"
    assert "not a valid phone number" in refused.value.message


async def test_profile_fields_are_cleaned(tenant_a: World) -> None:
    with staff(tenant_a):
        member = await service.create_member(
            MemberCreate(
                name="  Chan   Tai Man ",
                email=" Chan@Example.COM ",
                birthday=date(1990, 5, 31),
                tags=["VIP", "vip", " coffee ", ""],
                marketing_opt_in=True,
                locale="zh-Hant",
                notes="likes oat milk",
            )
        )
        fetched = await service.get_member(member.member_no)
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        for fields, code in [
            ({"birthday": tomorrow}, "invalid_birthday"),
            ({"email": "chan@"}, "invalid_email"),
            ({"tags": ["x" * 33]}, "invalid_tags"),
            ({"locale": "fr"}, "invalid_locale"),
        ]:
            with pytest.raises(DomainError) as refused:
                await service.update_member(member.member_no, MemberUpdate(**fields))
            assert refused.value.code == code
    assert fetched == member
    assert (member.name, member.email, member.tags) == (
        "Chan Tai Man",
        "chan@example.com",
        ("VIP", "coffee"),
    )
    assert (member.birthday, member.marketing_opt_in, member.locale) == (
        date(1990, 5, 31),
        True,
        "zh-Hant",
    )
    assert (member.points, member.stored_value, member.status) == (0, 0, "active")


async def test_verified_needs_a_name_and_a_contact(tenant_a: World) -> None:
    with staff(tenant_a):
        member, _ = await service.join_by_identity("wechat", ["oScanOnly"])
        assert not member.verified
        named = await service.update_member(member.member_no, MemberUpdate(name="Chan"))
        assert not named.verified
        with_phone = await service.update_member(member.member_no, MemberUpdate(phone="91234567"))
        assert with_phone.verified
        no_phone = await service.update_member(member.member_no, MemberUpdate(phone=""))
        assert not no_phone.verified
        emailed = await service.update_member(member.member_no, MemberUpdate(email="c@x.hk"))
        assert emailed.verified and emailed.name == "Chan"  # partial: the name stayed
        assert (await service.create_member(MemberCreate(phone="91234567"))).verified is False
        verified = await service.search_members(verified=True)
        unverified = await service.search_members(verified=False)
    assert [m.id for m in verified.items] == [member.id]
    assert unverified.total == 1 and unverified.items[0].id != member.id


async def test_update_is_audited_with_before_and_after(tenant_a: World) -> None:
    with staff(tenant_a):
        member = await service.create_member(MemberCreate(name="Chan"))
        await service.update_member(
            member.member_no, MemberUpdate(name="Chan Tai Man", notes="")
        )  # notes unchanged: not in the record
        await service.update_member(member.member_no, MemberUpdate(name="Chan Tai Man"))
        entries = [e for e in await audit.recent() if e["action"] == "member.update"]
    assert len(entries) == 1  # an update that changes nothing records nothing
    assert (_json(entries[0]["before"]), _json(entries[0]["after"])) == (
        {"name": "Chan"},
        {"name": "Chan Tai Man"},
    )
    assert entries[0]["actor"] == f"staff:{tenant_a.owner.id}"


async def test_unknown_member_number_is_not_found(tenant_a: World) -> None:
    with staff(tenant_a):
        for call in (
            service.get_member("M999999"),
            service.update_member("M999999", MemberUpdate(name="x")),
            service.get_member_by_id(999999),
            service.identities(999999),
        ):
            with pytest.raises(NotFound) as missing:
                await call
            assert missing.value.code == "not_found"


# --- search ----------------------------------------------------------------------------


async def _people() -> dict[str, object]:
    return {
        "chan": await service.create_member(
            MemberCreate(name="Chan Tai Man", phone="9123 4567", email="tm.chan@example.com")
        ),
        "wong": await service.create_member(MemberCreate(name="Wong Siu Ming", phone="6123 4567")),
        "chinese": await service.create_member(MemberCreate(name="陳大文", phone="5123 4567")),
        "simplified": await service.create_member(MemberCreate(name="李小龙")),
    }


async def test_search_tolerates_typos_and_matches_phones_numbers_and_scripts(
    tenant_a: World,
) -> None:
    with staff(tenant_a):
        people = await _people()

        async def first(q: str):
            page = await service.search_members(q)
            return page.items[0].id if page.items else None

        assert await first("chan tia man") == people["chan"].id  # typo
        assert await first("CHAN TAI MAN") == people["chan"].id
        assert await first("tai man") == people["chan"].id
        assert await first("9123 4567") == people["chan"].id
        assert await first("85291234567") == people["chan"].id
        assert await first("+852 9123 4567") == people["chan"].id
        assert await first("tm.chan@example") == people["chan"].id
        assert await first("陈大文") == people["chinese"].id  # Simplified finds Traditional
        assert await first("李小龍") == people["simplified"].id  # and the other way round
        assert await first(people["wong"].member_no.lower()) == people["wong"].id
        # The exact number comes first even where other numbers look alike.
        exact = await service.search_members(people["wong"].member_no)
        assert exact.items[0].id == people["wong"].id
        assert (await service.search_members("zzzz qqqq")).total == 0
        # A phone query is a substring match only: a near number is someone else's.
        assert (await service.search_members("9123 4568")).total == 0


async def test_search_pages_carry_the_total_and_filter_in_sql(tenant_a: World) -> None:
    with staff(tenant_a):
        made = [
            await service.create_member(
                MemberCreate(name=f"Lee {n}", phone=f"912345{n:02d}" if n % 2 else "")
            )
            for n in range(1, 26)
        ]
        page = await service.search_members(limit=10, offset=20)
        assert (page.total, len(page.items), page.has_more) == (25, 5, False)
        newest_first = await service.search_members(limit=3)
        assert [m.id for m in newest_first.items] == [m.id for m in made[::-1][:3]]
        verified = await service.search_members("lee", verified=True, limit=5, offset=5)
        assert (verified.total, len(verified.items)) == (13, 5)
        assert all(m.verified for m in verified.items)
        unverified = await service.search_members(verified=False, limit=100)
        assert unverified.total == 12 and not any(m.verified for m in unverified.items)
        everyone = set()
        for offset in range(0, 25, 7):
            everyone |= {
                m.id for m in (await service.search_members("lee", offset=offset, limit=7)).items
            }
        assert everyone == {m.id for m in made}


async def test_search_treats_like_wildcards_as_text(tenant_a: World) -> None:
    with staff(tenant_a):
        await service.create_member(MemberCreate(name="Ho"))
        assert (await service.search_members("%")).total == 0
        assert (await service.search_members("_")).total == 0

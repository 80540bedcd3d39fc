"""Schemathesis against the OpenAPI document: every ``/api/v1`` operation, on PostgreSQL.

The demo tenant is seeded as ``loyalchat demo`` seeds it (its programme, members with
points, rewards, plus one coupon redeemed), then schemathesis generates requests from the
document and sends them to the app in-process (ASGI) with the demo's manager key, or an
owner key where the route needs one. A case fails on:

- a 5xx, a status code the operation does not document, or a body that does not match;
- schema-valid data refused for a reason the document does not state: a 400, or a 422
  whose code is not one of :data:`RULES_BEYOND_THE_SCHEMA` (rules a JSON schema cannot
  say, which the field descriptions state instead);
- a request that changed data and then failed (:func:`no_change_when_refused`).

Each operation is fuzzed with valid and with invalid data, half of the valid cases aimed at
the demo's real members, rewards and grants so they reach the services; a stateful run
follows the links schemathesis infers (create a member -> use its ``member_no``...).
Deterministic (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation and mode).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from loyalchat import db
from loyalchat.commands.demo import ensure_demo
from loyalchat.context import Actor, tenant_context
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberUpdate
from loyalchat.rewards import service as rewards
from loyalchat.tenants import apikeys
from loyalchat.tenants.tables import Role

MAX_EXAMPLES = 12
STATEFUL_EXAMPLES = 10
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes only an owner may call; the rest run with the demo's manager key.
OWNER_ONLY = frozenset({("PUT", "/api/v1/plugins/{plugin}")})  # docs/loyalty.md, roles
# 422 codes for rules a JSON schema cannot state (a real phone number, a name in at least
# one language, an installed reward type...): the descriptions state them instead.
RULES_BEYOND_THE_SCHEMA = frozenset(
    {
        "invalid_phone",
        "invalid_email",
        "invalid_birthday",
        "invalid_name",
        "invalid_tags",
        "invalid_reward",
        "unknown_reward_type",
        "member_merged",
        "invalid_amount",
        "reason_required",
        "idempotency_key_reused",
    }
)
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# A cheap picture of one tenant's data: row counts, balances, digests of the rows a
# request may change. A refused request must leave it as it was.
_FINGERPRINT = """
SELECT
  (SELECT count(*) FROM member WHERE tenant = {t}) AS members,
  (SELECT coalesce(sum(points), 0) FROM member WHERE tenant = {t}) AS points,
  (SELECT coalesce(sum(stored_value), 0) FROM member WHERE tenant = {t}) AS stored_value,
  (SELECT md5(coalesce(string_agg(m::text, ',' ORDER BY m.id), '')) FROM member m
     WHERE tenant = {t}) AS member_rows,
  (SELECT count(*) FROM ledger_entry WHERE tenant = {t}) AS ledger_entries,
  (SELECT coalesce(sum(remaining), 0) FROM point_lot WHERE tenant = {t}) AS lots,
  (SELECT count(*) FROM stored_value_entry WHERE tenant = {t}) AS value_entries,
  (SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r.id), '')) FROM reward r
     WHERE tenant = {t}) AS reward_rows,
  (SELECT md5(coalesce(string_agg(g::text, ',' ORDER BY g.id), '')) FROM reward_grant g
     WHERE tenant = {t}) AS grant_rows,
  (SELECT md5(coalesce(string_agg(k.id || ':' || coalesce(k.revoked_at::text, ''), ','
     ORDER BY k.id), '')) FROM api_key k WHERE tenant = {t}) AS api_keys,
  (SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY p.id), '')) FROM tenant_plugin p
     WHERE tenant = {t}) AS plugins
"""


class Demo:
    """The seeded demo tenant: its keys, real ids to aim at, and its data's fingerprint."""

    def __init__(self, tenant_id: int, manager_key: str, owner_key: str) -> None:
        self.tenant_id = tenant_id
        self.manager_key = manager_key
        self.owner_key = owner_key
        self.key_ids: set[int] = set()
        self.real: dict[str, list[Any]] = {}
        self.before: dict[str, dict[str, Any]] = {}  # case id -> fingerprint before the call

    def headers(self, case: Any) -> dict[str, str]:
        owner = (case.method.upper(), case.operation.path) in OWNER_ONLY
        return {"Authorization": f"Bearer {self.owner_key if owner else self.manager_key}"}

    def fingerprint(self) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            sql = _FINGERPRINT.format(t=int(self.tenant_id))
            return dict((await db.current_engine()._run_in_new_connection(sql))[0])

        return asyncio.run(read())

    def before_call(self, case: Any) -> None:
        """Keep the fuzzer's own keys alive; remember the data before a write."""
        if case.method.upper() == "DELETE" and case.path_parameters.get("key_id") in self.key_ids:
            case.path_parameters["key_id"] = 2**31 - 1
        if case.method.upper() in MUTATING:
            self.before[case.id] = self.fingerprint()


async def _seed() -> Demo:
    credentials = await ensure_demo()
    principal = await apikeys.authenticate(credentials["api_key"])
    assert principal is not None
    with tenant_context(principal.tenant_id, Actor("system", label="fuzz")):
        owner = await apikeys.create_key("fuzz owner", Role.owner)
        demo = Demo(principal.tenant_id, credentials["api_key"], owner.key)
        demo.key_ids = {row["id"] for row in await apikeys.list_keys()}
        page = await members.search_members(limit=10)
        catalogue = await rewards.list_rewards(limit=10)
        rich = max(page.items, key=lambda member: member.points)
        coffee = min(catalogue.items, key=lambda reward: reward.points_cost)
        grant = await rewards.redeem(rich.id, coffee.id, key="fuzz:seed")
        demo.real = {
            "member_no": [member.member_no for member in page.items],
            "reward_id": [reward.id for reward in catalogue.items],
            "code": [grant.code],
            "key_id": sorted(demo.key_ids),
            "plugin": ["coupon", "stored_value"],
        }
    return demo


@pytest.fixture
async def demo(clean_db: None) -> Demo:
    return await _seed()


@pytest.fixture
def fuzz_app() -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False)


def _load(app: Litestar) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app).include(
        path_regex=r"^/api/v1/"
    )


@functools.cache
def document_operations() -> list[str]:
    """Every operation of the document under /api/v1, as ``METHOD path``."""
    from loyalchat.app import create_app

    document = create_app(run_workers=False).openapi_schema.to_schema()
    return sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


# -- checks -------------------------------------------------------------------------------


def no_change_when_refused(demo: Demo):
    """A write answered 4xx/5xx must leave the tenant's data as it found it."""

    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        before = demo.before.pop(case.id, None)
        if before is None or response.status_code < 400:
            return None
        after = demo.fingerprint()
        changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
        if changed:
            raise AssertionError(f"answered {response.status_code} but changed {changed}")
        return True

    return check


def invalid_data_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' ``negative_data_rejection`` for bodies and paths.

    Unknown query parameters are ignored, as HTTP APIs commonly do, and this suite always
    sends its key (a negated ``Authorization`` header is put back), so a case negated only
    in its query or headers proves nothing.
    """
    negated = {
        location.name.lower()
        for location, info in (case.meta.components if case.meta else {}).items()
        if not info.mode.is_positive
    }
    if negated <= {"query", "header"}:
        return None
    return negative_data_rejection(ctx, response, case)


def valid_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid data is never a 400 but for a NUL or control character (refused on
    every route, loyalchat.inputguard); a 422 only for a rule the schema cannot state."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code in (400, 422):
        code = (response.json().get("error") or {}).get("code")
        allowed = {"invalid_character"} if response.status_code == 400 else RULES_BEYOND_THE_SCHEMA
        if code not in allowed:
            raise AssertionError(f"valid data refused with {code!r}: {response.text[:500]}")
    return True


CHECKS = {
    "excluded_checks": [positive_data_acceptance, negative_data_rejection],
    "additional_checks": [valid_data_accepted, invalid_data_refused],
}


def _call_and_check(demo: Demo, case: Any) -> None:
    demo.before_call(case)
    headers = demo.headers(case)
    response = case.call(headers=headers)
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=CHECKS["excluded_checks"],
        additional_checks=[*CHECKS["additional_checks"], no_change_when_refused(demo)],
    )


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("label", document_operations())
def test_operation_conforms_to_the_document(
    fuzz_app: Litestar, demo: Demo, label: str, mode: str
) -> None:
    """Generated requests get documented answers; refusals change nothing."""
    method, path = label.split(" ", 1)
    operation = _load(fuzz_app)[path][method]
    generation = schemathesis.GenerationMode(mode)
    strategy = operation.as_strategy(generation_mode=generation)
    names = [name for name in demo.real if "{" + name + "}" in path]
    if names and generation.is_positive:
        real = operation.as_strategy(
            generation_mode=generation,
            path_parameters={name: demo.real[name][0] for name in names},
        )
        strategy = st.one_of(real, strategy)

    @FUZZ_SETTINGS
    @given(case=strategy)
    def run(case: Any) -> None:
        _call_and_check(demo, case)

    run()


def test_stateful_links(fuzz_app: Litestar, demo: Demo) -> None:
    """Chains along the inferred links: a new member's number used for purchases..."""
    machine = _load(fuzz_app).as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": demo.headers(case)}

        def call(self, case: Any, **kwargs: Any) -> Any:
            demo.before_call(case)
            return case.call(**kwargs)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(
                response,
                headers=demo.headers(case),
                excluded_checks=CHECKS["excluded_checks"],
                additional_checks=[*CHECKS["additional_checks"], no_change_when_refused(demo)],
            )

    Workflow.run(
        settings=settings(FUZZ_SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=6)
    )


def test_every_api_operation_is_fuzzed() -> None:
    """The fuzzer's list is the document's: a new route is fuzzed without editing this file."""
    labels = document_operations()
    assert "POST /api/v1/members" in labels and len(labels) >= 25


async def test_the_fingerprint_sees_a_refused_write_that_changed_data(demo: Demo) -> None:
    """The custom check fails when a refused write left a change behind (it can fail)."""

    class Refused:
        status_code = 422

    class Case:
        id = "case-1"

    await asyncio.to_thread(lambda: demo.before.update({"case-1": demo.fingerprint()}))
    with tenant_context(demo.tenant_id, Actor("system", label="fuzz")):
        member = (await members.search_members(limit=1)).items[0]
        await members.update_member(member.member_no, MemberUpdate(notes="changed"))
    check = no_change_when_refused(demo)
    with pytest.raises(AssertionError, match="member_rows"):
        await asyncio.to_thread(check, None, Refused(), Case())

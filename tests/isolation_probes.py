"""Requests that name another tenant's objects in bodies and query strings (issue 8).

The isolation harness plants tenant B's objects (``isolation_objects.FACTORIES``) and
then, as tenant A, sends every mutating route a body, and every page with query
parameters a query string, in which each field that names an object carries B's value.
What names an object is decided by field name (``OBJECT_FIELDS``); every field of every
input schema, every query parameter and every console form field must be classified as
naming an object or as plain (``PLAIN_FIELDS``), so a new field or route is covered (or
the classification test fails) without anyone remembering the harness.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from loyalchat.context import Actor, tenant_context
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate

# field name -> (object kind, "int" or "str"): which of the planted values it gets.
OBJECT_FIELDS: dict[str, tuple[str, str]] = {
    "member": ("member", "int"),
    "member_id": ("member", "int"),
    "other": ("member", "int"),
    "member_no": ("member", "str"),
    "absorb_no": ("member", "str"),
    "reward": ("reward", "int"),
    "reward_id": ("reward", "int"),
    "grant_id": ("grant", "int"),
    "code": ("grant", "str"),
    "image": ("media", "str"),
    "image_key": ("media", "str"),
    "key": ("media", "str"),
    "rule_id": ("earning_rule", "int"),
    "key_id": ("api_key", "int"),
    "auto_reply_id": ("auto_reply", "int"),
    "conversation": ("conversation", "int"),
    "tenant_id": ("tenant", "int"),
    "tenant": ("tenant", "int"),
    "sample_key": ("media", "str"),  # the receipt profile page's kept sample photos
    "branch": ("qr_branch", "str"),  # the QR kit's branch code (?branch=, the add form)
}
# Fields reviewed as naming no tenant object, with a valid sample value where one helps.
PLAIN_FIELDS: dict[str, Any] = {
    "name": "Isolation probe",
    "points_cost": 10,
    "type": "coupon",
    "kind": "coupon",
    "options": {"benefit": "probe"},
    "points": 5,
    "reason": "isolation probe",
    "amount": "12.00",
    "reference": "ISO-PROBE-1",
    "role": "cashier",
    "q": None,  # filled with B's member number, name and phone by query_probes()
    # A staff user id filtering the audit log: the log read is the current tenant's only,
    # so B's staff id finds nothing (tests/test_history.py, two tenants).
    "person": None,
    # the onboarding wizard (issue 12): business details, the document upload, the channels
    **dict.fromkeys("region industry timezone document channels".split()),
    # the admin's application review (issue 12): the queue's wait filter, approve's tick
    **dict.fromkeys("age without_payment".split()),
    **dict.fromkeys(
        "phone email birthday notes tags marketing_opt_in locale enabled settings "
        "description stock per_member_limit starts_at ends_at validity_days active position "
        "verified limit offset active_only page hpage show status amount_text next token "
        "form_token action weekdays version rounding expiry expiry_month value_reason "
        "number_format password viewport robots referrer next_url service_key available "
        # console conversations and auto-replies (issue 10)
        "text channel match pattern language priority sample try_locale draft seen "
        # the QR kit (issue 11): which print file
        "file "
        # the receipt review queue (issue 11): its filters and decision forms
        "since until note receipt_date "
        # sign-up, password reset and staff invitations (issue 12)
        "shop_name slug password_confirm".split()
    ),
    # the receipt profile page (issue 11): the profile and receipt settings, the photo
    # inputs, and what was read off each kept sample (JSON; its key is sample_key's)
    **dict.fromkeys(
        "photos try_photo pos_system names branches total_labels date_order currency "
        "amount_low amount_high qr_prefix window_days review_limit confirm_below ask_hours "
        "review_hours per_hour per_day sample_read".split()
    ),
    # billing (issue 12): the plan chosen (a platform plan's code), how to pay, the
    # transfer slip, and the admin's ?original= (the slip as sent)
    **dict.fromkeys("plan provider slip original".split()),
}
# Handler parameters the framework fills (not query strings a caller controls).
RESERVED = {"request", "data", "scope", "state", "headers", "socket"}
TEMPLATES = Path(__file__).resolve().parents[1] / "frontend" / "templates"


def planted_value(field: str, planted: Mapping[str, Any]) -> Any:
    """B's value for an object-naming field (None when B has no such object)."""
    kind, form = OBJECT_FIELDS[field]
    value = planted.get(kind)
    if isinstance(value, Mapping):
        return value.get(form)
    return value if form == "int" else None


def input_struct(handler: Any) -> type[msgspec.Struct] | None:
    data = handler.parsed_fn_signature.parameters.get("data")
    kind = data.annotation if data else None
    return kind if isinstance(kind, type) and issubclass(kind, msgspec.Struct) else None


def query_params(handler: Any, path: str) -> list[str]:
    """The handler's query-string parameters (not path params, bodies or dependencies)."""
    in_path = set(re.findall(r"\{(\w+)", path))
    dependencies = set(handler.resolve_dependencies())
    names = handler.parsed_fn_signature.parameters
    return [n for n in names if n not in RESERVED | in_path | dependencies]


def unclassified(app_handlers: list[tuple[str, str, Any]]) -> set[str]:
    """Schema fields, query parameters and console form fields nobody has classified."""
    known = set(OBJECT_FIELDS) | set(PLAIN_FIELDS)
    names: set[str] = set()
    for path, _method, handler in app_handlers:
        struct = input_struct(handler)
        if struct is not None:
            names |= {field.name for field in msgspec.structs.fields(struct)}
        names |= set(query_params(handler, path))
    for template in TEMPLATES.rglob("*.html"):
        names |= set(re.findall(r'\bname="([a-z_]+)"', template.read_text(encoding="utf-8")))
    return names - known


def _sample(field: msgspec.structs.FieldInfo) -> Any:
    value = PLAIN_FIELDS.get(field.name)
    if field.name == "name" and "dict" in str(field.type):
        return {"en": value}
    return value


def api_body(handler: Any, planted: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A JSON body for the handler's input schema: B's values in object fields, valid
    samples elsewhere; and the planted values it carries (an echo of them is no leak)."""
    struct = input_struct(handler)
    body: dict[str, Any] = {}
    sent: set[str] = set()
    for field in msgspec.structs.fields(struct) if struct else ():
        if field.name in OBJECT_FIELDS:
            value = planted_value(field.name, planted)
            if value is not None:
                body[field.name] = value
                sent.add(str(value))
        elif (sample := _sample(field)) is not None:
            body[field.name] = sample
    return body, sent


def console_form(planted: Mapping[str, Any]) -> tuple[dict[str, str], set[str]]:
    """A form body carrying B's value in every object-naming field a console form uses,
    with fresh form tokens and plain samples, so a handler that reads any of them gets B's."""
    form = {
        name: str(value)
        for name, value in PLAIN_FIELDS.items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    form["token"] = form["form_token"] = secrets.token_urlsafe(18)
    sent = set()
    for field in OBJECT_FIELDS:
        value = planted_value(field, planted)
        if value is not None:
            form[field] = str(value)
            sent.add(str(value))
    return form, sent


def query_probes(
    handler: Any, path: str, planted: Mapping[str, Any], searches: list[str]
) -> list[dict[str, str]]:
    """Query strings for a page: each object-naming parameter with B's value, and each
    search box (``q``) with each of B's searchable values."""
    probes: list[dict[str, str]] = []
    for name in query_params(handler, path):
        if name == "q":
            probes += [{"q": text} for text in searches]
        elif name in OBJECT_FIELDS and (value := planted_value(name, planted)) is not None:
            probes.append({name: str(value)})
    return probes


async def own_objects(tenant_id: int) -> dict[str, Any]:
    """Tenant A's own member and reward: the path objects of probes whose body names B's."""
    with tenant_context(tenant_id, Actor("system")):
        member = await members.create_member(MemberCreate(name="Alpha Own"))
        reward = await rewards.create_reward(
            RewardCreate(
                name={"en": "Alpha reward"}, points_cost=1, type="coupon", options={"benefit": "a"}
            )
        )
    return {"member": {"int": member.id, "str": member.member_no}, "reward": reward.id}

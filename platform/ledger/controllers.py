"""JSON API for a member's points and stored value (``/api/v1/members/{member_no}/...``).

Thin: the member is found by the ``before_request`` hook, the rules and ledger services
do the work. Each write hands the service an idempotency key: a purchase always its
natural one (``purchase:<reference>``: a reference is credited once whatever the
header), a stored-value spend or top-up with a reference its natural one too
(``spend:ref:<reference>``, chosen by ``ledger.value``), the others the request's own
(``Idempotency-Key``) when sent, else a fresh token. A service replay (the same purchase
or payment again) answers 200 instead of 201.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.pagination import OffsetPagination
from litestar.params import Body, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from loyalchat.api_errors import (
    FORBIDDEN,
    IDEMPOTENCY_ERRORS,
    NOT_FOUND,
    error_responses,
    replayed_response,
)
from loyalchat.api_pages import offset_page
from loyalchat.bounds import Offset
from loyalchat.idempotency.middleware import REPLAY_HEADERS, ServiceKey
from loyalchat.ledger import service as ledger
from loyalchat.ledger import value
from loyalchat.ledger.api_schemas import (
    ADJUSTMENT_EXAMPLES,
    PURCHASE_EXAMPLES,
    SPEND_EXAMPLES,
    TOP_UP_EXAMPLES,
    AdjustmentCreate,
    LedgerEntry,
    Purchase,
    PurchaseCreate,
    StoredValueChange,
    StoredValueEntry,
    entry_json,
    parse_money,
    value_entry_json,
)
from loyalchat.members.controllers import (
    MAX_PAGE,
    MEMBER,
    MEMBER_DEPENDENCIES,
    PathMember,
    load_member,
)
from loyalchat.rules import service as rules
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.tables import Role

MONEY_AS_NUMBER = (400, "amount_not_string")
INVALID_AMOUNT = (422, "invalid_amount")
# A reference already used with another amount (purchases, stored value).
REFERENCE_REUSED = (409, "reference_reused", {"amount": "7.00", "entry_id": 41})


def _status(replayed: bool) -> int:
    return HTTP_200_OK if replayed else HTTP_201_CREATED


def _token(prefix: str) -> str:
    # Without an Idempotency-Key two equal requests are two operations: a fresh key each.
    return f"{prefix}:{uuid.uuid4().hex}"


class MemberLedgerApiController(Controller):
    path = "/api/v1/members/{member_no:str}"
    tags = ("points",)
    security = ({"apiKey": []},)
    before_request = load_member
    dependencies = MEMBER_DEPENDENCIES
    opt = MEMBER

    @get("/ledger", guards=[api_key_required(Role.cashier)], responses=error_responses(NOT_FOUND))
    async def ledger_history(
        self,
        member: PathMember,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[LedgerEntry]:
        """The member's points history, newest first: who changed what, when and why."""
        page = await ledger.history(member.id, limit=limit, offset=offset)
        return offset_page(page, entry_json)

    @post(
        "/purchases",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.cashier)],
        responses={
            **error_responses(
                NOT_FOUND,
                MONEY_AS_NUMBER,
                INVALID_AMOUNT,
                (422, "invalid_reference"),
                REFERENCE_REUSED,
                *IDEMPOTENCY_ERRORS,
            ),
            **replayed_response(Purchase),
        },
    )
    async def record_purchase(
        self,
        member: PathMember,
        service_key: ServiceKey,  # documents Idempotency-Key; the reference is the key
        data: Annotated[PurchaseCreate, Body(examples=PURCHASE_EXAMPLES)],
    ) -> Response[Purchase]:
        """Credit a purchase through the shop's earning rules (once per ``reference``)."""
        amount = parse_money(data.amount)
        # The header only replays this response; the reference decides "once".
        result = await rules.record_purchase(member.id, amount, reference=data.reference)
        entry = await ledger.get_entry(result.entry_id) if result.entry_id is not None else None
        body = Purchase(
            member_no=member.member_no,
            amount=f"{amount:.2f}",
            reference=data.reference.strip(),
            points=result.points,
            balance=result.balance,
            entry=entry_json(entry) if entry else None,
            calculation=result.calculation.as_dict(),
            replayed=result.replayed,
        )
        return Response(body, status_code=_status(result.replayed))

    @post(
        "/adjustments",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.manager)],
        responses={
            **error_responses(
                NOT_FOUND,
                FORBIDDEN,
                (409, "insufficient_points", {"balance": 20, "needed": 50}),
                (422, "reason_required"),
                (422, "invalid_points"),
                *IDEMPOTENCY_ERRORS,
            ),
            **replayed_response(LedgerEntry),
        },
    )
    async def adjust_points(
        self,
        member: PathMember,
        service_key: ServiceKey,
        data: Annotated[AdjustmentCreate, Body(examples=ADJUSTMENT_EXAMPLES)],
    ) -> Response[LedgerEntry]:
        """Correct the points balance by hand, with a reason (manager role)."""
        entry = await rules.adjust_points(
            member.id,
            data.points,
            key=service_key or _token("adjust"),
            reason=data.reason,
        )
        return Response(entry_json(entry), status_code=_status(entry.replayed))

    @get(
        "/stored-value",
        guards=[api_key_required(Role.cashier)],
        responses=error_responses(NOT_FOUND),
    )
    async def stored_value_history(
        self,
        member: PathMember,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[StoredValueEntry]:
        """The member's stored-value history, newest first."""
        page = await value.history(member.id, limit=limit, offset=offset)
        return offset_page(page, value_entry_json)

    @post(
        "/stored-value/top-ups",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.manager)],  # money: as the console (docs/loyalty.md)
        responses={
            **error_responses(
                NOT_FOUND,
                FORBIDDEN,
                MONEY_AS_NUMBER,
                INVALID_AMOUNT,
                REFERENCE_REUSED,
                *IDEMPOTENCY_ERRORS,
            ),
            **replayed_response(StoredValueEntry, "the first entry with this reference"),
        },
    )
    async def top_up(
        self,
        member: PathMember,
        service_key: ServiceKey,
        data: Annotated[StoredValueChange, Body(examples=TOP_UP_EXAMPLES)],
    ) -> Response[StoredValueEntry]:
        """Add money taken at the till to the member's stored value (manager role)."""
        entry = await value.top_up(
            member.id,
            parse_money(data.amount),
            key=service_key or _token("topup"),  # unused when there is a reference
            reason=data.reason,
            reference=data.reference,
        )
        return Response(value_entry_json(entry), status_code=_status(entry.replayed))

    @post(
        "/stored-value/spends",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.manager)],  # money: as the console (docs/loyalty.md)
        responses={
            **error_responses(
                NOT_FOUND,
                FORBIDDEN,
                MONEY_AS_NUMBER,
                INVALID_AMOUNT,
                (409, "insufficient_stored_value", {"balance": "20.00"}),
                REFERENCE_REUSED,
                *IDEMPOTENCY_ERRORS,
            ),
            **replayed_response(StoredValueEntry, "the first entry with this reference"),
        },
    )
    async def spend(
        self,
        member: PathMember,
        service_key: ServiceKey,
        data: Annotated[StoredValueChange, Body(examples=SPEND_EXAMPLES)],
    ) -> Response[StoredValueEntry]:
        """The member pays with stored value (manager role); refused when the balance is short."""
        entry = await value.spend(
            member.id,
            parse_money(data.amount),
            key=service_key or _token("spend"),  # unused when there is a reference
            reason=data.reason,
            reference=data.reference,
        )
        return Response(value_entry_json(entry), status_code=_status(entry.replayed))

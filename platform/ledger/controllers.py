"""JSON API for a member's points history and stored value (``/api/v1/members/{member_no}/...``).

Thin: the member is found by the ``before_request`` hook, the ledger services do the
work (purchases and adjustments: ``purchases.controllers``). Each write hands the service
an idempotency key: a stored-value spend or top-up with a reference its natural one
(``spend:ref:<reference>``, chosen by ``ledger.stored_value``), else the request's own
(``Idempotency-Key``) when sent, else a fresh token. A service replay (the same payment
again) answers 200 instead of 201.
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
from loyalchat.ledger import figures, stored_value
from loyalchat.ledger.api_schemas import (
    INVALID_AMOUNT,
    MONEY_AS_NUMBER,
    REFERENCE_REUSED,
    SPEND_EXAMPLES,
    TOP_UP_EXAMPLES,
    LedgerEntry,
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
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.tables import Role


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
        page = await figures.history(member.id, limit=limit, offset=offset)
        return offset_page(page, entry_json)

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
        page = await stored_value.history(member.id, limit=limit, offset=offset)
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
        entry = await stored_value.top_up(
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
        entry = await stored_value.spend(
            member.id,
            parse_money(data.amount),
            key=service_key or _token("spend"),  # unused when there is a reference
            reason=data.reason,
            reference=data.reference,
        )
        return Response(value_entry_json(entry), status_code=_status(entry.replayed))

"""JSON API for a member's purchases and point adjustments (``/api/v1/members/{member_no}/...``).

Thin: the member is found by the ``before_request`` hook, ``purchases.service`` does the
work and returns everything the response shows. A purchase's idempotency key is always
its natural one (``purchase:<reference>``: a reference is credited once whatever the
header); an adjustment's is the request's own (``Idempotency-Key``) when sent, else a
fresh token. A service replay (the same purchase again) answers 200 instead of 201.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from loyalchat.api_errors import (
    FORBIDDEN,
    IDEMPOTENCY_ERRORS,
    NOT_FOUND,
    error_responses,
    replayed_response,
)
from loyalchat.idempotency.middleware import REPLAY_HEADERS, ServiceKey
from loyalchat.ledger.api_schemas import (
    INVALID_AMOUNT,
    MONEY_AS_NUMBER,
    REFERENCE_REUSED,
    LedgerEntry,
    entry_json,
    parse_money,
)
from loyalchat.members.controllers import MEMBER, MEMBER_DEPENDENCIES, PathMember, load_member
from loyalchat.purchases import service as purchases
from loyalchat.purchases.api_schemas import (
    ADJUSTMENT_EXAMPLES,
    PURCHASE_EXAMPLES,
    AdjustmentCreate,
    Purchase,
    PurchaseCreate,
)
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.tables import Role


def _status(replayed: bool) -> int:
    return HTTP_200_OK if replayed else HTTP_201_CREATED


class MemberPurchasesApiController(Controller):
    path = "/api/v1/members/{member_no:str}"
    tags = ("points",)
    security = ({"apiKey": []},)
    before_request = load_member
    dependencies = MEMBER_DEPENDENCIES
    opt = MEMBER

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
        # The header only replays this response; the reference decides "once".
        result = await purchases.record_purchase(
            member.id, parse_money(data.amount), reference=data.reference
        )
        body = Purchase(
            member_no=member.member_no,
            amount=f"{result.amount:.2f}",
            reference=result.reference,
            points=result.points,
            balance=result.balance,
            entry=entry_json(result.entry) if result.entry else None,
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
        entry = await purchases.adjust_points(
            member.id,
            data.points,
            # Without an Idempotency-Key two equal requests are two adjustments.
            key=service_key or f"adjust:{uuid.uuid4().hex}",
            reason=data.reason,
        )
        return Response(entry_json(entry), status_code=_status(entry.replayed))

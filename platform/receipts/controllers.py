"""JSON API for a member's receipts (``GET /api/v1/members/{member_no}/receipts``).

Thin: the member is found by the ``before_request`` hook (another shop's member number is
404), ``receipts.listing`` reads the page. Read by the same role as the member's points
history (cashier): the review queue is front-desk work.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.pagination import OffsetPagination
from litestar.params import QueryParameter

from loyalchat.api_errors import NOT_FOUND, error_responses
from loyalchat.api_pages import offset_page
from loyalchat.bounds import Offset
from loyalchat.members.controllers import (
    MAX_PAGE,
    MEMBER,
    MEMBER_DEPENDENCIES,
    PathMember,
    load_member,
)
from loyalchat.receipts.api_schemas import Receipt, receipt_json
from loyalchat.receipts.listing import member_receipts_page
from loyalchat.receipts.tables import ReceiptStatus
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.tables import Role


class MemberReceiptsApiController(Controller):
    path = "/api/v1/members/{member_no:str}"
    tags = ("receipts",)
    security = ({"apiKey": []},)
    before_request = load_member
    dependencies = MEMBER_DEPENDENCIES
    opt = MEMBER

    @get("/receipts", guards=[api_key_required(Role.cashier)], responses=error_responses(NOT_FOUND))
    async def member_receipts(
        self,
        member: PathMember,
        status: Annotated[
            ReceiptStatus | None,
            QueryParameter(description="Only the receipts in this status."),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 20,
        offset: Offset = 0,
    ) -> OffsetPagination[Receipt]:
        """The member's receipt photos, newest first: status, what was read and why."""
        page = await member_receipts_page(member.id, status=status, limit=limit, offset=offset)
        return offset_page(page, receipt_json)

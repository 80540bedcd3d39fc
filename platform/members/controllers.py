"""JSON API for members (``/api/v1/members``). Thin: the members service rules.

:func:`load_member` is the ``before_request`` hook of every route under
``/api/v1/members/{member_no}/...``: it finds the member before the body is read, so
another tenant's member number is a 404 whatever the body says.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.pagination import OffsetPagination
from litestar.params import Body, FromPath, QueryParameter

from loyalchat.api_errors import (
    IDEMPOTENCY_ERRORS,
    NOT_FOUND,
    error_responses,
)
from loyalchat.api_pages import offset_page
from loyalchat.bounds import Offset
from loyalchat.idempotency.middleware import IDEMPOTENCY_DEPENDENCIES, REPLAY_HEADERS, ServiceKey
from loyalchat.members import service
from loyalchat.members.api_schemas import CREATE_EXAMPLES, UPDATE_EXAMPLES, Member, member_json
from loyalchat.members.schemas import MemberCreate, MemberOut, MemberUpdate
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.tables import Role

MEMBER = {"tenant_object": "member"}
MAX_PAGE = 100
_STATE = "api_member"

PROFILE_ERRORS = (
    (422, "invalid_phone"),
    (422, "invalid_email"),
    (422, "invalid_birthday"),
)


async def load_member(request: Request) -> None:
    """``before_request``: the member in the path, for :func:`path_member` (``NotFound``)."""
    request.state[_STATE] = await service.get_member(request.path_params["member_no"])


async def path_member(request: Request) -> MemberOut:
    """Dependency: the member :func:`load_member` found."""
    return request.state[_STATE]


# For controllers under /api/v1/members/{member_no}: the member, and the service key.
MEMBER_DEPENDENCIES = {"member": Provide(path_member), **IDEMPOTENCY_DEPENDENCIES}
# How a handler asks for the member: ``member: PathMember``.
PathMember = NamedDependency[MemberOut]


class MemberApiController(Controller):
    path = "/api/v1/members"
    tags = ("members",)
    security = ({"apiKey": []},)
    dependencies = IDEMPOTENCY_DEPENDENCIES

    @get("/", guards=[api_key_required(Role.cashier)], responses=error_responses())
    async def list_members(
        self,
        q: Annotated[
            str,
            QueryParameter(
                description="Name, phone or member number; typos in names are forgiven.",
                max_length=200,
            ),
        ] = "",
        verified: Annotated[
            bool | None,
            QueryParameter(description="true: verified members only; false: unverified only."),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 20,
        offset: Offset = 0,
    ) -> OffsetPagination[Member]:
        """Members, best match first (newest first without ``q``)."""
        page = await service.search_members(q=q, verified=verified, limit=limit, offset=offset)
        return offset_page(page, member_json)

    @post(
        "/",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.cashier)],
        responses=error_responses(*PROFILE_ERRORS, *IDEMPOTENCY_ERRORS),
    )
    async def create_member(
        self,
        data: Annotated[MemberCreate, Body(examples=CREATE_EXAMPLES)],
        service_key: ServiceKey,  # the middleware replays; the service creates once
    ) -> Member:
        """Enrol a member; the shop's next member number is given."""
        return member_json(await service.create_member(data, key=service_key))

    @get(
        "/{member_no:str}",
        guards=[api_key_required(Role.cashier)],
        opt=MEMBER,
        responses=error_responses(NOT_FOUND),
    )
    async def get_member(self, member_no: FromPath[str]) -> Member:
        """One member, with balances."""
        return member_json(await service.get_member(member_no))

    @patch(
        "/{member_no:str}",
        guards=[api_key_required(Role.cashier)],
        opt=MEMBER,
        responses=error_responses(NOT_FOUND, (422, "member_merged"), *PROFILE_ERRORS),
    )
    async def update_member(
        self,
        member_no: FromPath[str],
        data: Annotated[MemberUpdate, Body(examples=UPDATE_EXAMPLES)],
    ) -> Member:
        """Change the fields given; leave a field out to keep it."""
        return member_json(await service.update_member(member_no, data))
